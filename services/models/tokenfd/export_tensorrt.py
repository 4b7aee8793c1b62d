"""Build a TensorRT engine (plan) from the exported ONNX encoder (GPU machines only).

The engine is built by services/models/tensorrt.py: this module imports anywhere, and
without an NVIDIA GPU or the tensorrt package `build_plan` raises TensorRTUnavailable
with a message saying so. The optimisation profile covers every tile batch the encoder's dynamic
batcher can form (up to the repository's max_batch_size) and every padded query length;
`encoder_profile` derives it from those numbers, so the engine and the repository
cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common import limits
from services.models.tensorrt import Shapes, TensorRTUnavailable, build_engine, gpu_present
from services.models.tokenfd import config
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.locate import padded_length

__all__ = ["Profile", "TensorRTUnavailable", "build_plan", "encoder_profile", "gpu_present"]

TYPICAL_QUERY_TOKENS = 8   # the profile's opt query length: a few words


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


def build_plan(onnx_path: str | Path, plan_path: str | Path, *, feature_dim: int | None = None,
               profile: Profile | None = None, fp16: bool = False, tf32: bool = False,
               workspace_bytes: int = 4 << 30) -> Path:
    """The encoder's engine, written to plan_path. Without a profile: `encoder_profile()`,
    the default repository's; the query width is read from the graph unless given."""
    profile = profile or encoder_profile()

    def shapes(network) -> Shapes:
        width = _query_dim(network) if feature_dim is None else feature_dim
        side = config.TILE_SIZE
        return {contract.ENC_PIXELS: tuple((n, 3, side, side) for n in profile.tiles),
                contract.ENC_QUERY: tuple((n, t, width) for n, t in zip(profile.tiles, profile.tokens, strict=True))}

    return build_engine(onnx_path, plan_path, shapes, fp16=fp16, tf32=tf32, workspace_bytes=workspace_bytes)


def _query_dim(network) -> int:
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if tensor.name == contract.ENC_QUERY:
            dim = int(tensor.shape[-1])
            if dim > 0:
                return dim
    raise RuntimeError(f"the ONNX graph has no static last axis on {contract.ENC_QUERY}")
