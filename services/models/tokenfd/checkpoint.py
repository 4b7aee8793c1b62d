"""Load an upstream TokenFD checkpoint directory into `TokenFDModel` (torch).

    <dir>/config.json                              internvl_chat layout (config.py)
    <dir>/model.safetensors                        or model-0000k-of-0000n.safetensors
                                                   + model.safetensors.index.json
    <dir>/pytorch_model.bin                        or sharded .bin + pytorch_model.bin.index.json
    <dir>/tokenizer.model                          InternLM2 sentencepiece model
    <dir>/tokenfd_mini.json                        optional: what a checkpoint trained here records
                                                   beside its weights (its name, the calibrated
                                                   cosine threshold and decoding); official
                                                   checkpoints have none

The checkpoint is checked against the exact set of upstream names and shapes the
config implies before anything is converted; a missing, unexpected or mis-shaped
tensor is refused with a message that lists every one of them by upstream name.
Then the ViT names are mapped to transformers' InternVLVisionModel (the fused qkv is
split by rows into q, k, v), the embedding table is taken from either place it may
live, and the tensors documented as unused at inference are dropped.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from services.models import checkpoints
from services.models.checkpoints import (
    BIN_FILE,
    BIN_INDEX,
    SAFETENSORS_FILE,
    SAFETENSORS_INDEX,
    CheckReport,
    read_config_json,
)
from services.models.common import internvit
from services.models.tokenfd.config import CheckpointError, TokenFDConfig
from services.models.tokenfd.query_matches import Decoding

TOKENIZER_FILE = "tokenizer.model"

EMBEDDING_NAMES = ("tok_embeddings.weight", "language_model.model.tok_embeddings.weight")
# Loss temperature and bias of training, and InternVL's MLLM projector in some
# checkpoints: never used by TokenFD inference.
UNUSED = re.compile(r"^(t_prime|b|mlp1\..*)$")
OPTIONAL = re.compile(r"^upsample\.[13]\.num_batches_tracked$")

# What a checkpoint trained here (TokenFD-mini, mini/checkpoint.py) records beside its weights. The
# export carries its name, threshold and decoding to the served model; the rest (steps, metrics) is its
# history.
RECORD_FILE = "tokenfd_mini.json"


@dataclass(frozen=True)
class Recorded:
    """A checkpoint's record: its name, and the cosine threshold and the decoding (query_matches.py)
    calibrated on held-out pages (None when it records none, as official checkpoints: the gateway's
    default threshold and upstream's reading then apply)."""
    name: str | None = None
    threshold: float | None = None
    decoding: Decoding | None = None


def read_record(checkpoint_dir: str | Path) -> Recorded:
    """The checkpoint's RECORD_FILE (an empty Recorded without one); CheckpointError for a record
    that is not a JSON object, a name that is not a non-empty string, a threshold that is not a
    cosine similarity, or a decoding Decoding.from_json refuses."""
    path = Path(checkpoint_dir) / RECORD_FILE
    if not path.is_file():
        return Recorded()
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is not a JSON object")
    name, threshold = data.get("name"), data.get("threshold")
    if name is not None and not (isinstance(name, str) and name.strip()):
        raise CheckpointError(f"{path}: 'name' must be a non-empty string, got {name!r}")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not math.isfinite(threshold) or not -1.0 <= threshold <= 1.0:
            raise CheckpointError(f"{path}: 'threshold' must be a cosine similarity in [-1, 1], got {threshold!r}")
        threshold = float(threshold)
    decoding = data.get("decoding")
    if decoding is not None:
        try:
            decoding = Decoding.from_json(decoding)
        except ValueError as exc:
            raise CheckpointError(f"{path}: 'decoding': {exc}") from None
    return Recorded(name=name, threshold=threshold, decoding=decoding)


# --- config and files ----------------------------------------------------------------
def load_config(checkpoint_dir: str | Path) -> TokenFDConfig:
    """The checkpoint's config; its name is the one it records, else its directory's."""
    data = read_config_json(checkpoint_dir, "TokenFD", CheckpointError)
    name = read_record(checkpoint_dir).name or Path(checkpoint_dir).resolve().name
    return TokenFDConfig.from_upstream_json(data, name=name)


def weight_files(checkpoint_dir: str | Path) -> list[Path]:
    """The weight files, safetensors preferred; a sharded checkpoint's shards in index order."""
    return checkpoints.weight_files(checkpoint_dir, CheckpointError)


def read_state_dict(checkpoint_dir: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of the checkpoint under their upstream names (shards merged)."""
    return checkpoints.read_state_dict(checkpoint_dir, CheckpointError)


# --- names and shapes ----------------------------------------------------------------
def upstream_shapes(config: TokenFDConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor TokenFD inference needs, by upstream name (the embedding table
    under its usual name, `tok_embeddings.weight`)."""
    C, D, H = config.vision.hidden_size, config.feature_dim, config.upsample_channels
    shapes = internvit.upstream_shapes(config.vision)
    for index, (c_in, c_out) in ((0, (C, H)), (2, (H, C))):
        shapes[f"upsample.{index}.weight"] = (c_in, c_out, 4, 4)
        for stat in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"upsample.{index + 1}.{stat}"] = (c_out,)
        shapes[f"upsample.{index + 1}.num_batches_tracked"] = ()
    shapes.update({"ocr_mlp.0.weight": (C,), "ocr_mlp.0.bias": (C,),
                   "ocr_mlp.1.weight": (D, C), "ocr_mlp.1.bias": (D,),
                   "ocr_mlp.3.weight": (D, D), "ocr_mlp.3.bias": (D,),
                   EMBEDDING_NAMES[0]: (config.vocab_size, D)})
    return shapes


def _embedding_name(state: dict[str, torch.Tensor]) -> tuple[str | None, list[str]]:
    """Which stored name holds the embedding table, and problems (both present and different)."""
    present = [name for name in EMBEDDING_NAMES if name in state]
    if len(present) == 2 and not torch.equal(state[present[0]], state[present[1]]):
        return present[0], [f"{present[1]}: a second, different embedding table (also in {present[0]})"]
    return (present[0] if present else None), []


def check_state_dict(state: dict[str, torch.Tensor], config: TokenFDConfig) -> CheckReport:
    expected = upstream_shapes(config)
    embedding, conflicts = _embedding_name(state)
    aliases = {embedding: EMBEDDING_NAMES[0]} if embedding else {}
    ignored = sorted(name for name in state if UNUSED.match(name)
                     or (name in EMBEDDING_NAMES and name != embedding and not conflicts))
    seen: set[str] = set()
    unexpected, mis_shaped = [], []
    for name, tensor in state.items():
        if name in ignored:
            continue
        canonical = aliases.get(name, name)
        if canonical not in expected:
            unexpected.append(name)
            continue
        seen.add(canonical)
        if tuple(tensor.shape) != expected[canonical]:
            mis_shaped.append(f"{name}: checkpoint {tuple(tensor.shape)}, expected {expected[canonical]}")
    missing = [name for name in expected if name not in seen and not OPTIONAL.match(name)]
    if embedding is None:
        missing = [n if n != EMBEDDING_NAMES[0] else f"{n} (or {EMBEDDING_NAMES[1]})" for n in missing]
    return CheckReport("TokenFD", missing=missing, unexpected=sorted(unexpected) + conflicts,
                       mis_shaped=sorted(mis_shaped), ignored=ignored)


def convert_state_dict(state: dict[str, torch.Tensor], config: TokenFDConfig,
                       source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Upstream names -> TokenFDModel names, float32. Raises CheckpointError listing
    every missing, unexpected and mis-shaped tensor."""
    report = check_state_dict(state, config)
    if not report.ok:
        raise CheckpointError(report.message(source))
    embedding, _ = _embedding_name(state)
    C = config.vision.hidden_size
    converted: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if name in report.ignored:
            continue
        if tensor.is_floating_point():
            tensor = tensor.to(torch.float32)
        if name == embedding:
            converted["tok_embeddings.weight"] = tensor
            continue
        # the ViT by InternViT's names; upsample.*, ocr_mlp.*: same names
        converted.update(internvit.convert(name, tensor, C) or {name: tensor.contiguous()})
    for index in (1, 3):
        converted.setdefault(f"upsample.{index}.num_batches_tracked", torch.tensor(0, dtype=torch.long))
    return converted


# --- the model -----------------------------------------------------------------------
def build_model(config: TokenFDConfig, state: dict[str, torch.Tensor]):
    """TokenFDModel in eval mode (fp32) with these converted weights. Built on the meta
    device and the tensors assigned, so a 300M-parameter model is not first filled
    with random weights."""
    from services.models.tokenfd.modeling import TokenFDModel

    with torch.device("meta"):
        model = TokenFDModel(config)
    result = model.load_state_dict(state, strict=False, assign=True)
    if result.missing_keys or result.unexpected_keys:
        # a mismatch between the name map and the module: a bug here, not in the checkpoint
        raise RuntimeError(f"name map out of date: missing {result.missing_keys}, "
                           f"unexpected {result.unexpected_keys}")
    return model.requires_grad_(False).eval()   # inference only: no autograd bookkeeping


def load_model(checkpoint_dir: str | Path):
    """(TokenFDModel in eval mode, TokenFDConfig) from an upstream checkpoint directory."""
    directory = Path(checkpoint_dir)
    config = load_config(directory)
    state = convert_state_dict(read_state_dict(directory), config, source=str(directory))
    return build_model(config, state), config


__all__ = ["BIN_FILE", "BIN_INDEX", "RECORD_FILE", "CheckReport", "CheckpointError", "EMBEDDING_NAMES",
           "Recorded", "SAFETENSORS_FILE", "SAFETENSORS_INDEX", "build_model", "check_state_dict",
           "convert_state_dict", "load_config", "load_model", "read_record", "read_state_dict", "upstream_shapes",
           "weight_files"]
