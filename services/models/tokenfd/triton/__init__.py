"""TokenFD on Triton: its contract (model and tensor names), what its python models
run (the locate pipeline, the ONNX Runtime encoder) and its model-repository entries.

The generic machinery (launcher, stub environment, repository core) is services.triton;
another model family adds a sibling package like this one. Torch-free.
"""
