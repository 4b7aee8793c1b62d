"""What two or more model families share, so that no family imports another's helpers:
InternVL's dynamic tiling (tiling.py), the InternViT checkpoint names and their conversion
(internvit.py) and the ONNX export helpers (export.py). The strict checkpoint report and
reading an upstream directory's files are services/models/checkpoints.py."""
