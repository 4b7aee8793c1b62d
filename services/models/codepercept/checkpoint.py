"""CodePercept-mini's output: a TokenVL checkpoint directory in the upstream layout, read by the existing
strict loader (services/models/tokenvl/checkpoint.py) like any TokenVL checkpoint; no second code path.

    config.json              InternVL chat layout (TokenVLConfig.to_upstream_json), torch_dtype float16
    model.safetensors        upstream tensor names, fp16 (the loader reads them as float32)
    tokenizer.json           the code tokenizer with TokenVL's special tokens (tokenizer.py)
    codepercept_mini.json    what the recipe records beside the weights (RECORD_FILE): the name, the
                             serving numbers (max_tiles, system message, context), steps, the held-out
                             metrics, where the vision tower started from

The way back from TokenVLModel's names to upstream's is the loader's map read backwards: the ViT through
InternViT's inverse (services/models/common/internvit.py), the extra block as encoder_mt.vit_layer, and
the LLM's q/k/v fused into InternLM2's per-KV-group wqkv by the fixture writer's interleave_wqkv. The
ViT's last block, which TokenVL does not run, is stored as a copy of the extra block (the layout has it).

Also here: `init_vision_from_tokenfd`, TokenFD-mini's encoder (an upstream TokenFD checkpoint) into the
TokenVL vision tower: its blocks 0..L-2 into the ViT, its last block into the extra block (so the
vision path computes TokenFD-mini's feature map), its upsampler as the upsampler.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from services.models.checkpoints import CONFIG_FILE
from services.models.common import internvit
from services.models.common.training import write_checkpoint
from services.models.tokenvl.checkpoint import convert_state_dict
from services.models.tokenvl.config import TokenVLConfig
from services.models.tokenvl.fixtures import WEIGHTS_FILE, interleave_wqkv
from services.models.tokenvl.tokens import TOKENIZER_FILE

RECORD_FILE = "codepercept_mini.json"
FILES = (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, RECORD_FILE)

_LLM_BACK = tuple((re.compile(p), r) for p, r in (
    (r"^language_model\.model\.embed_tokens\.weight$", "language_model.model.tok_embeddings.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.self_attn\.o_proj\.weight$",
     r"language_model.model.layers.\1.attention.wo.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.mlp\.gate_proj\.weight$",
     r"language_model.model.layers.\1.feed_forward.w1.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.mlp\.up_proj\.weight$",
     r"language_model.model.layers.\1.feed_forward.w3.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.mlp\.down_proj\.weight$",
     r"language_model.model.layers.\1.feed_forward.w2.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.input_layernorm\.weight$",
     r"language_model.model.layers.\1.attention_norm.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.post_attention_layernorm\.weight$",
     r"language_model.model.layers.\1.ffn_norm.weight"),
    (r"^language_model\.model\.norm\.weight$", "language_model.model.norm.weight"),
    (r"^language_model\.lm_head\.weight$", "language_model.output.weight"),
    (r"^vision\.upsample\.(.*)$", r"encoder_mt.upsample.\1"),
    (r"^vision\.abstractor\.foreground_tokens\.weight$", "reducer_mt.foreground_tokens.weight"),
    (r"^vision\.projector\.(.*)$", r"mlp_mt.\1"),
))
_QKV = re.compile(r"^language_model\.model\.layers\.(\d+)\.self_attn\.([qkv])_proj\.weight$")


def upstream_state(model_state: dict[str, torch.Tensor], config: TokenVLConfig) -> dict[str, torch.Tensor]:
    """TokenVLModel weights under upstream names (the inverse of tokenvl.checkpoint.convert_state_dict)."""
    last = config.vision.num_hidden_layers - 1
    vit, block, rest = {}, {}, {}
    for name, tensor in model_state.items():
        if name.startswith("vision.vision_model."):
            vit[name.removeprefix("vision.")] = tensor
        elif name.startswith("vision.extra_block."):
            block[f"vision_model.encoder.layer.{last}." + name.removeprefix("vision.extra_block.")] = tensor
        else:
            rest[name] = tensor
    state = internvit.to_upstream(vit)
    prefix = f"vision_model.encoder.layers.{last}."
    for name, tensor in internvit.to_upstream(block).items():
        state[name] = tensor                                                  # the unused last block: a copy
        state["encoder_mt.vit_layer." + name.removeprefix(prefix)] = tensor.clone()
    qkv: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in rest.items():
        match = _QKV.match(name)
        if match:
            qkv.setdefault(match.group(1), {})[match.group(2)] = tensor
            continue
        for pattern, replacement in _LLM_BACK:
            if pattern.match(name):
                state[pattern.sub(replacement, name)] = tensor
                break
        else:
            if not name.endswith("rotary_emb.inv_freq"):
                raise RuntimeError(f"no upstream name for {name}")
    for layer, parts in qkv.items():
        fused = interleave_wqkv(*(parts[p].detach().float().numpy() for p in "qkv"), config)
        name = f"language_model.model.layers.{layer}.attention.wqkv.weight"
        state[name] = torch.from_numpy(np.ascontiguousarray(fused))
    return state


def save(out: str | Path, config: TokenVLConfig, model_state: dict[str, torch.Tensor], tokenizer: Path,
         record: dict) -> Path:
    """Write the checkpoint (floating tensors fp16), after checking the strict loader accepts it."""
    state = upstream_state(model_state, config)
    convert_state_dict(state, config, source="CodePercept-mini export")   # raises on any name/shape mismatch
    return write_checkpoint(out, WEIGHTS_FILE, state,
                            documents={CONFIG_FILE: {**config.to_upstream_json(), "torch_dtype": "float16"},
                                       RECORD_FILE: {"name": config.name, **record}},
                            copies={TOKENIZER_FILE: tokenizer})


def init_vision_from_tokenfd(model, directory: str | Path) -> str:
    """Load an upstream TokenFD checkpoint's encoder (TokenFD-mini's) into `model.vision` (a TokenVLModel's);
    returns what was loaded, for the record. The shapes must match: CodePercept-mini's ViT is TokenFD-mini's."""
    from services.models.tokenfd.checkpoint import load_model as load_tokenfd

    tokenfd, tokenfd_config = load_tokenfd(directory)
    if tokenfd_config.vision != model.config.vision:
        raise ValueError(f"{directory}: its ViT ({tokenfd_config.vision}) is not this model's "
                         f"({model.config.vision})")
    last = model.config.vision.num_hidden_layers - 1
    source = tokenfd.vision_model.state_dict()
    vit = {name: t for name, t in source.items() if not name.startswith(f"encoder.layer.{last}.")}
    block = {name.removeprefix(f"encoder.layer.{last}."): t for name, t in source.items()
             if name.startswith(f"encoder.layer.{last}.")}
    with torch.no_grad():
        model.vision.vision_model.load_state_dict(vit, strict=True)
        model.vision.extra_block.load_state_dict(block, strict=True)
        model.vision.upsample.load_state_dict(tokenfd.upsample.state_dict(), strict=True)
    return f"TokenFD encoder of {Path(directory).name} (ViT, last block as the extra block, upsampler)"
