"""InternViT, the vision tower of TokenFD and TokenVL: its upstream tensor names and shapes, and
their conversion to transformers' InternVLVisionModel (torch only inside `convert`).

Upstream stores each block's attention as one fused `attn.qkv` whose rows are [q; k; v]; the
conversion splits it by rows into q_proj, k_proj and v_proj. `vision` below is a family's
vision config (hidden_size, intermediate_size, patch_size, patch_grid, num_hidden_layers,
qkv_bias, norm_type).
"""
from __future__ import annotations

import re

PREFIX = "vision_model."

# upstream ViT name -> transformers InternVLVisionModel name (under vision_model.)
RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^vision_model\.embeddings\.class_embedding$", "vision_model.embeddings.cls_token"),
    (r"^vision_model\.embeddings\.position_embedding$", "vision_model.embeddings.position_embeddings"),
    (r"^vision_model\.embeddings\.patch_embedding\.(weight|bias)$",
     r"vision_model.embeddings.patch_embeddings.projection.\1"),
    (r"^vision_model\.encoder\.layers\.(\d+)\.attn\.proj\.(weight|bias)$",
     r"vision_model.encoder.layer.\1.attention.projection_layer.\2"),
    (r"^vision_model\.encoder\.layers\.(\d+)\.mlp\.(fc[12])\.(weight|bias)$",
     r"vision_model.encoder.layer.\1.mlp.\2.\3"),
    (r"^vision_model\.encoder\.layers\.(\d+)\.norm1\.(weight|bias)$",
     r"vision_model.encoder.layer.\1.layernorm_before.\2"),
    (r"^vision_model\.encoder\.layers\.(\d+)\.norm2\.(weight|bias)$",
     r"vision_model.encoder.layer.\1.layernorm_after.\2"),
    (r"^vision_model\.encoder\.layers\.(\d+)\.ls1$", r"vision_model.encoder.layer.\1.lambda_1"),
    (r"^vision_model\.encoder\.layers\.(\d+)\.ls2$", r"vision_model.encoder.layer.\1.lambda_2"),
))
QKV = re.compile(r"^vision_model\.encoder\.layers\.(\d+)\.attn\.qkv\.(weight|bias)$")


def layer_shapes(prefix: str, vision) -> dict[str, tuple[int, ...]]:
    """One InternViT block's tensors under `prefix` (e.g. "vision_model.encoder.layers.0.")."""
    C, M = vision.hidden_size, vision.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {prefix + "attn.qkv.weight": (3 * C, C)}
    if vision.qkv_bias:
        shapes[prefix + "attn.qkv.bias"] = (3 * C,)
    shapes.update({prefix + "attn.proj.weight": (C, C), prefix + "attn.proj.bias": (C,),
                   prefix + "mlp.fc1.weight": (M, C), prefix + "mlp.fc1.bias": (M,),
                   prefix + "mlp.fc2.weight": (C, M), prefix + "mlp.fc2.bias": (C,),
                   prefix + "ls1": (C,), prefix + "ls2": (C,)})
    for norm in ("norm1", "norm2"):
        shapes[prefix + f"{norm}.weight"] = (C,)
        if vision.norm_type == "layer_norm":
            shapes[prefix + f"{norm}.bias"] = (C,)
    return shapes


def upstream_shapes(vision) -> dict[str, tuple[int, ...]]:
    """Every tensor of the ViT (embeddings and all blocks), by upstream name."""
    C, P = vision.hidden_size, vision.patch_size
    shapes: dict[str, tuple[int, ...]] = {
        "vision_model.embeddings.class_embedding": (1, 1, C),
        "vision_model.embeddings.patch_embedding.weight": (C, 3, P, P),
        "vision_model.embeddings.patch_embedding.bias": (C,),
        "vision_model.embeddings.position_embedding": (1, vision.patch_grid ** 2 + 1, C),
    }
    for i in range(vision.num_hidden_layers):
        shapes.update(layer_shapes(f"vision_model.encoder.layers.{i}.", vision))
    return shapes


def convert(name: str, tensor, hidden_size: int) -> dict | None:
    """One upstream ViT tensor under its InternVLVisionModel name(s) (the fused qkv split by rows
    into q, k, v); None for a name that is not the ViT's."""
    qkv = QKV.match(name)
    if qkv:
        layer, kind = qkv.groups()
        # rows [0:C] = q, [C:2C] = k, [2C:3C] = v
        return {f"vision_model.encoder.layer.{layer}.attention.{part}_proj.{kind}": chunk.contiguous()
                for part, chunk in zip("qkv", tensor.split(hidden_size, dim=0), strict=True)}
    for pattern, replacement in RULES:
        if pattern.match(name):
            return {pattern.sub(replacement, name): tensor.contiguous()}
    return None


# --- the way back: transformers names -> upstream names (a checkpoint trained here is written
# in the upstream layout, so the same loader reads it) ---------------------------------------------

_GROUP = re.compile(r"\([^()?]*\)")


def _inverse(pattern: str, template: str) -> tuple[re.Pattern[str], str]:
    """One rule read backwards: (the regex of `template`'s names, the upstream name template)."""
    groups = _GROUP.findall(pattern)
    pieces = re.split(r"\\(\d)", template)   # text, group number, text, ...
    assert [int(p) for p in pieces[1::2]] == list(range(1, len(groups) + 1)), "groups out of order"
    regex = "".join(re.escape(piece) if i % 2 == 0 else groups[int(piece) - 1] for i, piece in enumerate(pieces))
    numbers = iter(range(1, len(groups) + 1))
    upstream = _GROUP.sub(lambda _: f"\\{next(numbers)}", pattern.strip("^$")).replace("\\.", ".")
    return re.compile(f"^{regex}$"), upstream


TO_UPSTREAM = tuple(_inverse(pattern.pattern, template) for pattern, template in RULES)
QKV_PART = re.compile(r"^vision_model\.encoder\.layer\.(\d+)\.attention\.([qkv])_proj\.(weight|bias)$")


def to_upstream(state: dict) -> dict:
    """InternVLVisionModel tensors under their upstream names, q, k and v fused back into the rows
    of `attn.qkv` (the inverse of `convert`); names that are not the ViT's pass unchanged."""
    import torch

    upstream, qkv = {}, {}
    for name, tensor in state.items():
        part = QKV_PART.match(name)
        if part:
            layer, which, kind = part.groups()
            qkv.setdefault((layer, kind), {})[which] = tensor
            continue
        for pattern, template in TO_UPSTREAM:
            if pattern.match(name):
                name = pattern.sub(template, name)
                break
        upstream[name] = tensor
    for (layer, kind), parts in qkv.items():
        upstream[f"vision_model.encoder.layers.{layer}.attn.qkv.{kind}"] = torch.cat([parts[p] for p in "qkv"])
    return upstream
