"""TensorRT engine building shared by every model's gpu target (GPU machines only).

`tensorrt` is imported lazily: this module imports anywhere, and without an NVIDIA GPU
or the tensorrt package `build_engine` raises TensorRTUnavailable saying which is missing.
A model's own module says which shapes its one optimisation profile covers
(services/models/tokenfd/export_tensorrt.py, services/models/tokenvl/export_tensorrt.py).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable

PLAN_FILE = "model.plan"   # a TensorRT engine's file: Triton's default name for a tensorrt_plan model

# input name -> (min, opt, max) shapes of the optimisation profile
Shapes = dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]


class TensorRTUnavailable(RuntimeError):
    """No NVIDIA GPU or no tensorrt package on this machine."""


def gpu_present() -> bool:
    """An NVIDIA GPU the driver can see (nvidia-smi lists one)."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and "GPU" in result.stdout


def import_tensorrt():
    if not gpu_present():
        raise TensorRTUnavailable("TensorRT needs an NVIDIA GPU and the tensorrt package; no GPU found")
    try:
        import tensorrt  # noqa: PLC0415 - only on GPU machines
    except ImportError as exc:
        raise TensorRTUnavailable("TensorRT needs an NVIDIA GPU and the tensorrt package; "
                                  "the tensorrt package is not installed") from exc
    return tensorrt


def build_engine(onnx_path: str | Path, plan_path: str | Path, shapes: Callable[[object], Shapes], *,
                 fp16: bool = False, tf32: bool = False, workspace_bytes: int = 4 << 30) -> Path:
    """Parse the ONNX graph (explicit batch), build a serialized engine with one optimisation
    profile, `shapes(network)` (the parsed network, for shapes read from the graph), and
    write it to plan_path. fp16 and TF32 are off by default: outputs are compared with the
    fp32 reference."""
    trt = import_tensorrt()
    onnx_path, plan_path = Path(onnx_path), Path(plan_path)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH"):
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "\n".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}:\n{errors}")
    build_config = builder.create_builder_config()
    build_config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if fp16:
        build_config.set_flag(trt.BuilderFlag.FP16)
    if not tf32 and hasattr(trt.BuilderFlag, "TF32"):
        build_config.clear_flag(trt.BuilderFlag.TF32)
    profile = builder.create_optimization_profile()
    for name, (low, opt, high) in shapes(network).items():
        profile.set_shape(name, low, opt, high)
    build_config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, build_config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}")
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_bytes(bytes(serialized))
    return plan_path
