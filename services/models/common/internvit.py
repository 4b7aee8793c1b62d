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
                for part, chunk in zip(("q", "k", "v"), tensor.split(hidden_size, dim=0))}
    for pattern, replacement in RULES:
        if pattern.match(name):
            return {pattern.sub(replacement, name): tensor.contiguous()}
    return None
