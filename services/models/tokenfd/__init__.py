"""TokenFD (formerly TokenOCR): a ViT whose per-patch features live in an LLM's
token-embedding space, so "where is this text?" is a cosine-similarity map.

Modules, by who may import them:

* torch-free (serving paths: gateway, Triton python models):
  ``config`` (named sizes, config.json parsing), ``preprocess`` (InternVL dynamic
  tiling and map stitching, numpy + PIL), ``tokenizer`` (query tokenisation,
  sentencepiece), ``fixtures`` (the seeded upstream-layout checkpoint).
* torch (export, reference checks, tests, benchmarks):
  ``modeling`` (the network), ``checkpoint`` (upstream checkpoint loader),
  ``reference`` (the PyTorch pipeline), ``export_onnx``, ``export_tensorrt``,
  ``export`` (the CLI).

This file must stay free of torch imports.
"""
