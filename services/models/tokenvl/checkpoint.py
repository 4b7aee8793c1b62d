"""Load an upstream TokenVL checkpoint directory into `TokenVLModel` (torch).

    <dir>/config.json          InternVL chat layout with vision_config and llm_config (config.py)
    <dir>/model.safetensors    (or shards / .bin: services/models/checkpoints.py reads them)
    <dir>/tokenizer.json       the tokenizer with InternLM2's special tokens (tokens.py)

Strict, as TokenFD's loader: the checkpoint is checked against every upstream name and
shape its config implies, and every missing, unexpected and mis-shaped tensor is listed by
upstream name before anything is converted. Then:

* the ViT keeps InternViT's names and conversion (services/models/common/internvit.py; its
  last block, unused by TokenVL, is checked and dropped);
* encoder_mt / reducer_mt / mlp_mt become VisionEncoder's extra_block / upsample /
  abstractor / projector;
* InternLM2 becomes Llama, as transformers' InternVL conversion does: tok_embeddings ->
  embed_tokens, attention.wo -> o_proj, feed_forward.w1/w3/w2 -> gate/up/down_proj,
  attention_norm / ffn_norm -> input / post_attention_layernorm, output -> lm_head, and
  `wqkv` is de-interleaved per KV group: its rows are (kv_heads, q_per_kv + 2, head_dim),
  each KV head's query heads, then its key head, then its value head.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch

from services.models import checkpoints
from services.models.checkpoints import CheckReport, read_config_json
from services.models.common import internvit
from services.models.tokenvl.config import CheckpointError, TokenVLConfig

# InternVL's own projector (TokenVL uses mlp_mt) is stored but unused.
UNUSED = re.compile(r"^mlp1\..*$")
OPTIONAL = re.compile(r"^encoder_mt\.upsample\.[13]\.num_batches_tracked$")

__all__ = ["CheckReport", "CheckpointError", "check_state_dict", "convert_state_dict", "load_config",
           "load_model", "read_state_dict", "upstream_shapes", "weight_files"]


def load_config(checkpoint_dir: str | Path) -> TokenVLConfig:
    data = read_config_json(checkpoint_dir, "TokenVL", CheckpointError)
    return TokenVLConfig.from_upstream_json(data, name=Path(checkpoint_dir).resolve().name)


def weight_files(checkpoint_dir: str | Path) -> list[Path]:
    """The weight files, safetensors preferred; a sharded checkpoint's shards in index order."""
    return checkpoints.weight_files(checkpoint_dir, CheckpointError)


def read_state_dict(checkpoint_dir: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of the checkpoint under their upstream names (shards merged)."""
    return checkpoints.read_state_dict(checkpoint_dir, CheckpointError)


def upstream_shapes(config: TokenVLConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor of a TokenVL checkpoint, by upstream name."""
    v, llm = config.vision, config.llm
    C, U, W, H = v.hidden_size, config.upsample_channels, config.projector_width, llm.hidden_size
    shapes = internvit.upstream_shapes(v)
    shapes.update(internvit.layer_shapes("encoder_mt.vit_layer.", v))
    for index, (c_in, c_out) in ((0, (C, U)), (2, (U, C))):
        shapes[f"encoder_mt.upsample.{index}.weight"] = (c_in, c_out, 4, 4)
        for stat in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"encoder_mt.upsample.{index + 1}.{stat}"] = (c_out,)
        shapes[f"encoder_mt.upsample.{index + 1}.num_batches_tracked"] = ()
    shapes["reducer_mt.foreground_tokens.weight"] = (1, C)
    shapes.update({"mlp_mt.0.weight": (W,), "mlp_mt.0.bias": (W,), "mlp_mt.1.weight": (H, W),
                   "mlp_mt.1.bias": (H,), "mlp_mt.3.weight": (H, H), "mlp_mt.3.bias": (H,)})
    d, kv, q = llm.head_dim, llm.num_key_value_heads, llm.num_attention_heads
    shapes["language_model.model.tok_embeddings.weight"] = (llm.vocab_size, H)
    for i in range(llm.num_hidden_layers):
        layer = f"language_model.model.layers.{i}."
        shapes.update({layer + "attention.wqkv.weight": ((q + 2 * kv) * d, H),
                       layer + "attention.wo.weight": (H, q * d),
                       layer + "feed_forward.w1.weight": (llm.intermediate_size, H),
                       layer + "feed_forward.w3.weight": (llm.intermediate_size, H),
                       layer + "feed_forward.w2.weight": (H, llm.intermediate_size),
                       layer + "attention_norm.weight": (H,), layer + "ffn_norm.weight": (H,)})
    shapes["language_model.model.norm.weight"] = (H,)
    shapes["language_model.output.weight"] = (llm.vocab_size, H)
    return shapes


def check_state_dict(state: dict[str, torch.Tensor], config: TokenVLConfig) -> CheckReport:
    expected = upstream_shapes(config)
    ignored = sorted(name for name in state if UNUSED.match(name))
    unexpected, mis_shaped = [], []
    for name, tensor in state.items():
        if name in ignored:
            continue
        if name not in expected:
            unexpected.append(name)
        elif tuple(tensor.shape) != expected[name]:
            mis_shaped.append(f"{name}: checkpoint {tuple(tensor.shape)}, expected {expected[name]}")
    missing = [name for name in expected if name not in state and not OPTIONAL.match(name)]
    return CheckReport("TokenVL", missing=missing, unexpected=sorted(unexpected), mis_shaped=sorted(mis_shaped),
                       ignored=ignored)


def deinterleave_wqkv(wqkv: torch.Tensor, config: TokenVLConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """InternLM2's fused rows (kv_heads, q_per_kv + 2, head_dim) -> q, k, v projections."""
    llm = config.llm
    g, d, kv = llm.queries_per_kv, llm.head_dim, llm.num_key_value_heads
    grouped = wqkv.reshape(kv, g + 2, d, wqkv.shape[-1])
    q = grouped[:, :g].reshape(kv * g * d, -1)
    k = grouped[:, g].reshape(kv * d, -1)
    v = grouped[:, g + 1].reshape(kv * d, -1)
    return q.contiguous(), k.contiguous(), v.contiguous()


_LLM_RULES = tuple((re.compile(p), r) for p, r in (
    (r"^language_model\.model\.tok_embeddings\.weight$", "language_model.model.embed_tokens.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.attention\.wo\.weight$",
     r"language_model.model.layers.\1.self_attn.o_proj.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.feed_forward\.w1\.weight$",
     r"language_model.model.layers.\1.mlp.gate_proj.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.feed_forward\.w3\.weight$",
     r"language_model.model.layers.\1.mlp.up_proj.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.feed_forward\.w2\.weight$",
     r"language_model.model.layers.\1.mlp.down_proj.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.attention_norm\.weight$",
     r"language_model.model.layers.\1.input_layernorm.weight"),
    (r"^language_model\.model\.layers\.(\d+)\.ffn_norm\.weight$",
     r"language_model.model.layers.\1.post_attention_layernorm.weight"),
    (r"^language_model\.model\.norm\.weight$", "language_model.model.norm.weight"),
    (r"^language_model\.output\.weight$", "language_model.lm_head.weight"),
))
_WQKV = re.compile(r"^language_model\.model\.layers\.(\d+)\.attention\.wqkv\.weight$")
_VISION_RULES = tuple((re.compile(p), r) for p, r in (
    (r"^encoder_mt\.upsample\.(.*)$", r"vision.upsample.\1"),
    (r"^reducer_mt\.foreground_tokens\.weight$", "vision.abstractor.foreground_tokens.weight"),
    (r"^mlp_mt\.(.*)$", r"vision.projector.\1"),
))


def _convert_vit(state: dict[str, torch.Tensor], channels: int) -> dict[str, torch.Tensor]:
    """Upstream InternViT names -> transformers' InternVLVisionModel names."""
    converted = {}
    for name, tensor in state.items():
        renamed = internvit.convert(name, tensor, channels)
        if renamed is None:
            raise RuntimeError(f"no ViT conversion rule for {name}")
        converted.update(renamed)
    return converted


def convert_state_dict(state: dict[str, torch.Tensor], config: TokenVLConfig,
                       source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Upstream names -> TokenVLModel names, float32; CheckpointError lists every mismatch."""
    report = check_state_dict(state, config)
    if not report.ok:
        raise CheckpointError(report.message(source))
    state = {name: (t.to(torch.float32) if t.is_floating_point() else t) for name, t in state.items()
             if name not in report.ignored}
    # The ViT (and the extra block, which has the same per-layer names) through InternViT's map.
    last = config.vision.num_hidden_layers - 1
    vit = {name: t for name, t in state.items() if name.startswith("vision_model.")
           and not name.startswith(f"vision_model.encoder.layers.{last}.")}
    block = {f"vision_model.encoder.layers.{last}." + name.removeprefix("encoder_mt.vit_layer."): t
             for name, t in state.items() if name.startswith("encoder_mt.vit_layer.")}
    converted: dict[str, torch.Tensor] = {}
    for name, tensor in _convert_vit(vit | block, config.vision.hidden_size).items():
        prefix = f"vision_model.encoder.layer.{last}."
        if name.startswith(prefix):
            converted["vision.extra_block." + name.removeprefix(prefix)] = tensor
        else:
            converted["vision." + name] = tensor
    for name, tensor in state.items():
        if name.startswith(("vision_model.", "encoder_mt.vit_layer.")):
            continue
        wqkv = _WQKV.match(name)
        if wqkv:
            layer = f"language_model.model.layers.{wqkv.group(1)}.self_attn."
            for part, weight in zip("qkv", deinterleave_wqkv(tensor, config), strict=True):
                converted[f"{layer}{part}_proj.weight"] = weight
            continue
        for pattern, replacement in _LLM_RULES + _VISION_RULES:
            if pattern.match(name):
                converted[pattern.sub(replacement, name)] = tensor.contiguous()
                break
        else:  # a name the check accepted but no rule maps: a bug here, not in the checkpoint
            raise RuntimeError(f"no conversion rule for {name}")
    for index in (1, 3):
        converted.setdefault(f"vision.upsample.{index}.num_batches_tracked", torch.tensor(0, dtype=torch.long))
    return converted


def build_model(config: TokenVLConfig, state: dict[str, torch.Tensor], attention: str = "sdpa"):
    from services.models.tokenvl.modeling import TokenVLModel

    with torch.device("meta"):
        model = TokenVLModel(config, attention)
    result = model.load_state_dict(state, strict=True, assign=True)
    if result.missing_keys or result.unexpected_keys:
        raise RuntimeError(f"name map out of date: missing {result.missing_keys}, "
                           f"unexpected {result.unexpected_keys}")
    # rotary inverse frequencies are buffers computed at construction (never in a checkpoint)
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    model.language_model.model.rotary_emb = LlamaRotaryEmbedding(config=model.language_model.config)
    return model.requires_grad_(False).eval()


def load_model(checkpoint_dir: str | Path, attention: str = "sdpa"):
    """(TokenVLModel in eval mode, TokenVLConfig) from an upstream checkpoint directory."""
    directory = Path(checkpoint_dir)
    config = load_config(directory)
    state = convert_state_dict(read_state_dict(directory), config, source=str(directory))
    return build_model(config, state, attention), config
