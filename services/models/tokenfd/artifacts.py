"""Names of the files a TokenFD export writes (export_onnx, export_tensorrt) and the
repository builder, the python models and `make models` read (torch-free)."""
from __future__ import annotations

from services.models import tensorrt

ONNX_FILE = "encoder.onnx"          # the portable encoder graph (+ "encoder.onnx.data" when over 2 GB)
CPU_ONNX_FILE = "encoder.cpu.onnx"  # the same function laid out for ONNX Runtime: what the cpu target serves
PLAN_FILE = tensorrt.PLAN_FILE      # the encoder's TensorRT engine (Triton's default name for a plan)
EMBEDDINGS_FILE = "tok_embeddings.npy"
TOKENIZER_FILE = "tokenizer.model"
META_FILE = "tokenfd.json"

# What tokenfd_locate needs beside its model.py (the encoder has the engine).
LOCATE_RESOURCES = (EMBEDDINGS_FILE, TOKENIZER_FILE, META_FILE)
