"""Build a TensorRT engine (plan) from the exported ONNX encoder (GPU machines only).

`tensorrt` is imported lazily: the module imports anywhere, and without an NVIDIA
GPU or the tensorrt package `build_plan` raises TensorRTUnavailable with a message
saying so. The optimisation profile covers every tile batch the encoder's dynamic
batcher can form (up to the repository's max_batch_size) and every padded query length;
`encoder_profile` derives it from those numbers, so the engine and the repository
cannot disagree.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from services.common import limits
from services.models.tokenfd import config
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.locate import padded_length

TYPICAL_QUERY_TOKENS = 8   # the profile's opt query length: a few words


class TensorRTUnavailable(RuntimeError):
    """No NVIDIA GPU or no tensorrt package on this machine."""


@dataclass(frozen=True)
class Profile:
    """(min, opt, max) of the dynamic axes."""
    tiles: tuple[int, int, int]
    tokens: tuple[int, int, int]


def encoder_profile(encoder_max_batch_size: int | None = None, *, max_tiles: int | None = None,
                    max_query_tokens: int | None = None) -> Profile:
    """The profile serving a repository whose encoder has `encoder_max_batch_size`
    (default: the model config's): max = that batch, the most tiles the dynamic batcher
    hands the engine; opt = one request with the most tiles (max_tiles + thumbnail),
    what a lone large image sends. Tokens: max = the query limit padded as the locate
    pipeline pads it, opt = a few words."""
    batch = config.ENCODER_MAX_BATCH_SIZE if encoder_max_batch_size is None else encoder_max_batch_size
    one_request = config.encoder_tiles(config.DEFAULT_MAX_TILES if max_tiles is None else max_tiles)
    tokens = padded_length(limits.MAX_QUERY_TOKENS.get() if max_query_tokens is None else max_query_tokens)
    return Profile(tiles=(1, min(one_request, batch), batch),
                   tokens=(1, min(TYPICAL_QUERY_TOKENS, tokens), tokens))


def gpu_present() -> bool:
    """An NVIDIA GPU the driver can see (nvidia-smi lists one)."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and "GPU" in result.stdout


def _import_tensorrt():
    if not gpu_present():
        raise TensorRTUnavailable("TensorRT needs an NVIDIA GPU and the tensorrt package; no GPU found")
    try:
        import tensorrt  # noqa: PLC0415 - only on GPU machines
    except ImportError as exc:
        raise TensorRTUnavailable("TensorRT needs an NVIDIA GPU and the tensorrt package; "
                                  "the tensorrt package is not installed") from exc
    return tensorrt


def build_plan(onnx_path: str | Path, plan_path: str | Path, *, feature_dim: int | None = None,
               profile: Profile | None = None, fp16: bool = False, tf32: bool = False,
               workspace_bytes: int = 4 << 30) -> Path:
    """Parse the ONNX graph, build a serialized engine with one optimisation profile,
    write it to plan_path. fp16 and TF32 are off by default: the cosine maps are
    compared with the fp32 reference. Without a profile: `encoder_profile()`, the
    default repository's."""
    trt = _import_tensorrt()
    profile = profile or encoder_profile()
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
    if feature_dim is None:
        feature_dim = _query_dim(network)
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    if not tf32 and hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)
    opt = builder.create_optimization_profile()
    opt.set_shape(contract.ENC_PIXELS, *[(n, 3, config.TILE_SIZE, config.TILE_SIZE) for n in profile.tiles])
    opt.set_shape(contract.ENC_QUERY, *[(n, t, feature_dim) for n, t in zip(profile.tiles, profile.tokens)])
    config.add_optimization_profile(opt)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}")
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_bytes(bytes(serialized))
    return plan_path


def _query_dim(network) -> int:
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if tensor.name == contract.ENC_QUERY:
            dim = int(tensor.shape[-1])
            if dim > 0:
                return dim
    raise RuntimeError(f"the ONNX graph has no static last axis on {contract.ENC_QUERY}")
