"""TokenFD (formerly TokenOCR): a ViT whose per-patch features live in an LLM's
token-embedding space, so "where is this text?" is a cosine-similarity map.

Modules, by who may import them:

* torch-free (serving paths: gateway, Triton python models):
  ``config`` (the serving numbers, named sizes, config.json parsing), ``artifacts``
  (the export's file names), ``preprocess`` (InternVL dynamic tiling and map
  stitching, numpy + PIL), ``tokenizer`` (query tokenisation, sentencepiece),
  ``fixtures`` (the seeded upstream-layout checkpoint), ``triton`` (the Triton
  contract, locate pipeline, ONNX Runtime encoder and repository entries).
* torch (export, reference checks, tests, benchmarks):
  ``modeling`` (the network), ``checkpoint`` (upstream checkpoint loader),
  ``reference`` (the PyTorch pipeline), ``export_onnx``, ``export_tensorrt``,
  ``export`` (the CLI).

This file must stay free of torch imports.
"""
