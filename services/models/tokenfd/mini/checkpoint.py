"""TokenFD-mini's output: a checkpoint directory in the upstream layout, read by the existing loader
(services/models/tokenfd/checkpoint.py) like an official one; no second code path.

    config.json          internvl_chat layout (TokenFDConfig.to_upstream_json)
    model.safetensors    upstream tensor names, fp16 (the loader reads them as float32)
    tokenizer.model      the engine's sentencepiece model
    tokenfd_mini.json    what the recipe records beside the weights: the cosine threshold the
                         model learned (p = 0.5), steps, held-out metric, data seed
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import torch

from services.models.checkpoints import CONFIG_FILE
from services.models.tokenfd.checkpoint import SAFETENSORS_FILE, TOKENIZER_FILE, convert_state_dict
from services.models.tokenfd.config import TokenFDConfig

RECORD_FILE = "tokenfd_mini.json"

# TokenFDModel (transformers) name -> upstream name; the inverse of the loader's map
_TO_UPSTREAM = tuple((re.compile(p), r) for p, r in (
    (r"^vision_model\.embeddings\.cls_token$", "vision_model.embeddings.class_embedding"),
    (r"^vision_model\.embeddings\.position_embeddings$", "vision_model.embeddings.position_embedding"),
    (r"^vision_model\.embeddings\.patch_embeddings\.projection\.(weight|bias)$",
     r"vision_model.embeddings.patch_embedding.\1"),
    (r"^vision_model\.encoder\.layer\.(\d+)\.attention\.projection_layer\.(weight|bias)$",
     r"vision_model.encoder.layers.\1.attn.proj.\2"),
    (r"^vision_model\.encoder\.layer\.(\d+)\.mlp\.(fc[12])\.(weight|bias)$", r"vision_model.encoder.layers.\1.mlp.\2.\3"),
    (r"^vision_model\.encoder\.layer\.(\d+)\.layernorm_before\.(weight|bias)$",
     r"vision_model.encoder.layers.\1.norm1.\2"),
    (r"^vision_model\.encoder\.layer\.(\d+)\.layernorm_after\.(weight|bias)$",
     r"vision_model.encoder.layers.\1.norm2.\2"),
    (r"^vision_model\.encoder\.layer\.(\d+)\.lambda_1$", r"vision_model.encoder.layers.\1.ls1"),
    (r"^vision_model\.encoder\.layer\.(\d+)\.lambda_2$", r"vision_model.encoder.layers.\1.ls2"),
))
_QKV_PART = re.compile(r"^vision_model\.encoder\.layer\.(\d+)\.attention\.([qkv])_proj\.(weight|bias)$")


def upstream_state(model_state: dict[str, torch.Tensor], embeddings: torch.Tensor, t_prime: torch.Tensor,
                   bias: torch.Tensor) -> dict[str, torch.Tensor]:
    """TokenFDModel weights (+ the composed embedding table, the loss scale and bias) under upstream names."""
    state: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for name, tensor in model_state.items():
        if name == "tok_embeddings.weight":
            continue
        part = _QKV_PART.match(name)
        if part:
            layer, which, kind = part.groups()
            qkv.setdefault((layer, kind), {})[which] = tensor
            continue
        for pattern, replacement in _TO_UPSTREAM:
            if pattern.match(name):
                state[pattern.sub(replacement, name)] = tensor
                break
        else:
            state[name] = tensor
    for (layer, kind), parts in qkv.items():   # rows [0:C] = q, [C:2C] = k, [2C:3C] = v
        state[f"vision_model.encoder.layers.{layer}.attn.qkv.{kind}"] = torch.cat([parts[p] for p in "qkv"])
    state["tok_embeddings.weight"] = embeddings
    state["t_prime"] = t_prime.reshape(1)
    state["b"] = bias.reshape(1)
    return state


def save(out: str | Path, config: TokenFDConfig, state: dict[str, torch.Tensor], tokenizer: Path,
         record: dict) -> Path:
    """Write the checkpoint (floating tensors fp16), after checking the loader accepts it."""
    from safetensors.torch import save_file

    convert_state_dict(state, config, source="TokenFD-mini export")   # raises on any name/shape mismatch
    out = Path(out)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    half = {name: (t.detach().to(torch.float16) if t.is_floating_point() else t.detach()).contiguous()
            for name, t in state.items()}
    save_file(half, str(staging / SAFETENSORS_FILE), metadata={"format": "pt"})
    (staging / CONFIG_FILE).write_text(json.dumps({**config.to_upstream_json(), "torch_dtype": "float16"},
                                                  indent=2, sort_keys=True) + "\n")
    shutil.copyfile(tokenizer, staging / TOKENIZER_FILE)
    (staging / RECORD_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out
