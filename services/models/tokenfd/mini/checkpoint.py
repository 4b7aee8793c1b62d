"""TokenFD-mini's output: a checkpoint directory in the upstream layout, read by the existing loader
(services/models/tokenfd/checkpoint.py) like an official one; no second code path.

    config.json          internvl_chat layout (TokenFDConfig.to_upstream_json)
    model.safetensors    upstream tensor names, fp16 (the loader reads them as float32)
    tokenizer.model      the engine's sentencepiece model
    tokenfd_mini.json    what the recipe records beside the weights (RECORD_FILE, read by the
                         loader's read_record): the model's name, the cosine threshold calibrated
                         on held-out pages (the export carries it to the served model, where it is
                         the gateway's locate default), the learned one, steps, held-out metric
"""
from __future__ import annotations

from pathlib import Path

import torch

from services.models.checkpoints import CONFIG_FILE
from services.models.common import internvit
from services.models.common.training import write_checkpoint
from services.models.tokenfd.checkpoint import (
    RECORD_FILE,
    SAFETENSORS_FILE,
    TOKENIZER_FILE,
    convert_state_dict,
)
from services.models.tokenfd.config import TokenFDConfig


def upstream_state(model_state: dict[str, torch.Tensor], embeddings: torch.Tensor, t_prime: torch.Tensor,
                   bias: torch.Tensor) -> dict[str, torch.Tensor]:
    """TokenFDModel weights (+ the composed embedding table, the loss scale and bias) under upstream names."""
    state = internvit.to_upstream({name: tensor for name, tensor in model_state.items()
                                   if name != "tok_embeddings.weight"})
    state["tok_embeddings.weight"] = embeddings
    state["t_prime"] = t_prime.reshape(1)
    state["b"] = bias.reshape(1)
    return state


def save(out: str | Path, config: TokenFDConfig, state: dict[str, torch.Tensor], tokenizer: Path,
         record: dict) -> Path:
    """Write the checkpoint (floating tensors fp16), after checking the loader accepts it."""
    convert_state_dict(state, config, source="TokenFD-mini export")   # raises on any name/shape mismatch
    return write_checkpoint(out, SAFETENSORS_FILE, state,
                            documents={CONFIG_FILE: {**config.to_upstream_json(), "torch_dtype": "float16"},
                                       # the served model's name (checkpoint.read_record)
                                       RECORD_FILE: {"name": config.name, **record}},
                            copies={TOKENIZER_FILE: tokenizer})
