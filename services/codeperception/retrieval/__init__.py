"""Retrieval of data-engine programs by the look of their rendered images (the `retrieval` backend).

index.py is the serving half (numpy and Pillow only): an image's descriptor, the index file and its
nearest-neighbour search. build.py writes the index from the data engine's corpus
(`make retrieval-index`); it sits above the engine and is never imported by the service.
"""
