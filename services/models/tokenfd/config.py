"""TokenFD configuration: the named sizes and the upstream config.json (torch-free).

An upstream checkpoint's config.json is the InternVL chat layout
(``model_type: internvl_chat``): the feature dimension D is the top-level
``hidden_size`` and the ViT is described by ``vision_config``. It has no
``llm_config`` and none is needed here (the newer upstream loader wrongly requires
one, upstream issue #6).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from services.models.common.tiling import TILE_SIZE

# The numbers the whole serving path is built from. Everything else (the Triton contract,
# the repository builder, the locate pipeline, the TensorRT profile, the gateway's default)
# imports them from here, so they cannot drift apart. TILE_SIZE (pixels per tile side) is
# InternVL's tiling's (services/models/common/tiling.py), imported above.
FEATURE_GRID = 128                      # similarity-map side per tile (448 / 3.5)
DEFAULT_MAX_TILES = 12                  # largest tile grid (upstream's max_dynamic_patch)
MAX_TILES_CEILING = 40                  # largest max_tiles a repository may be built with (a typo guard)
THUMBNAIL_TILES = 1                     # a multi-tile image also sends its thumbnail
ENCODER_MAX_BATCH_SIZE = 16             # tiles per encoder execution (the Triton max_batch_size)
UPSAMPLE_FACTOR = 4                     # two stride-2 transposed convolutions
PAD_TOKEN_ID = 2                        # InternLM2's padding index
# A locate answer's cosine threshold when nothing else names one: upstream's binarisation value.
# A checkpoint trained here records its own, calibrated on held-out pages (checkpoint.RECORD_FILE).
UPSTREAM_THRESHOLD = 0.2


def encoder_tiles(max_tiles: int) -> int:
    """Most tiles one request sends to the encoder: the grid plus its thumbnail
    (a one-tile grid has none)."""
    return max_tiles + THUMBNAIL_TILES if max_tiles > 1 else 1


class CheckpointError(ValueError):
    """A checkpoint (or its config.json) that cannot be loaded as TokenFD."""


@dataclass(frozen=True)
class VisionConfig:
    """The InternViT backbone. Defaults are InternViT-300M (InternVL2.5)."""
    hidden_size: int = 1024
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    intermediate_size: int = 4096
    image_size: int = TILE_SIZE
    patch_size: int = 14
    layer_norm_eps: float = 1e-6
    qkv_bias: bool = True
    norm_type: str = "layer_norm"
    hidden_act: str = "gelu"

    @property
    def patch_grid(self) -> int:
        return self.image_size // self.patch_size


@dataclass(frozen=True)
class TokenFDConfig:
    vision: VisionConfig
    feature_dim: int          # D: the LLM's embedding width
    vocab_size: int           # rows of the token-embedding table
    name: str = "tokenfd"

    @property
    def feature_grid(self) -> int:
        return self.vision.patch_grid * UPSAMPLE_FACTOR

    @property
    def upsample_channels(self) -> int:
        """Width between the two transposed convolutions (512 for the 1024-wide ViT)."""
        return self.vision.hidden_size // 2

    def replace(self, **changes) -> "TokenFDConfig":
        return dataclasses.replace(self, **changes)

    # --- upstream config.json ---------------------------------------------------------
    def to_upstream_json(self) -> dict[str, Any]:
        """config.json in the upstream layout and key names."""
        v = self.vision
        return {
            "architectures": ["InternVLChatModel"],
            "model_type": "internvl_chat",
            "hidden_size": self.feature_dim,
            "vocab_size": self.vocab_size,
            "force_image_size": v.image_size,
            "downsample_ratio": 0.5,
            "select_layer": -1,
            "dynamic_image_size": True,
            "use_thumbnail": True,
            "min_dynamic_patch": 1,
            "max_dynamic_patch": DEFAULT_MAX_TILES,
            "template": "internlm2-chat",
            "train_stage": "stage3",
            "ps_version": "v2",
            "torch_dtype": "float32",
            "vision_config": {
                "architectures": ["InternVisionModel"],
                "model_type": "intern_vit_6b",
                "hidden_size": v.hidden_size,
                "num_hidden_layers": v.num_hidden_layers,
                "num_attention_heads": v.num_attention_heads,
                "intermediate_size": v.intermediate_size,
                "image_size": v.image_size,
                "patch_size": v.patch_size,
                "num_channels": 3,
                "qkv_bias": v.qkv_bias,
                "qk_normalization": False,
                "norm_type": v.norm_type,
                "layer_norm_eps": v.layer_norm_eps,
                "hidden_act": v.hidden_act,
                "drop_path_rate": 0.0,
                "dropout": 0.0,
                "attention_dropout": 0.0,
                "initializer_factor": 0.1,
                "use_flash_attn": False,
            },
        }

    @classmethod
    def from_upstream_json(cls, data: dict[str, Any], *, name: str = "tokenfd") -> "TokenFDConfig":
        """Parse an upstream config.json; raise CheckpointError on anything unusable."""
        problems: list[str] = []
        vision_raw = data.get("vision_config")
        if not isinstance(vision_raw, dict):
            raise CheckpointError("config.json has no 'vision_config' object")

        def integer(source: dict, key: str, where: str, default: int | None = None) -> int:
            value = source.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                problems.append(f"{where}{key} must be a positive integer, got {value!r}")
                return 1
            return value

        feature_dim = integer(data, "hidden_size", "")
        vocab_size = integer(data, "vocab_size", "")
        image_size = data.get("force_image_size") or vision_raw.get("image_size", TILE_SIZE)
        if isinstance(image_size, (list, tuple)) and len(set(image_size)) == 1:
            image_size = image_size[0]
        patch_size = vision_raw.get("patch_size", 14)
        if isinstance(patch_size, (list, tuple)) and len(set(patch_size)) == 1:
            patch_size = patch_size[0]
        vision = VisionConfig(
            hidden_size=integer(vision_raw, "hidden_size", "vision_config."),
            num_hidden_layers=integer(vision_raw, "num_hidden_layers", "vision_config."),
            num_attention_heads=integer(vision_raw, "num_attention_heads", "vision_config."),
            intermediate_size=integer(vision_raw, "intermediate_size", "vision_config."),
            image_size=image_size if isinstance(image_size, int) else -1,
            patch_size=patch_size if isinstance(patch_size, int) else -1,
            layer_norm_eps=float(vision_raw.get("layer_norm_eps", 1e-6)),
            qkv_bias=bool(vision_raw.get("qkv_bias", True)),
            norm_type=str(vision_raw.get("norm_type", "layer_norm")),
            hidden_act=str(vision_raw.get("hidden_act", "gelu")),
        )
        if vision.image_size != TILE_SIZE:
            problems.append(f"image size {image_size!r} is not supported: the serving contract uses "
                            f"{TILE_SIZE}-pixel tiles")
        elif vision.patch_size <= 0 or vision.patch_grid * UPSAMPLE_FACTOR != FEATURE_GRID \
                or vision.patch_grid * vision.patch_size != TILE_SIZE:
            problems.append(f"patch size {patch_size!r} is not supported: a {TILE_SIZE} tile must give a "
                            f"{FEATURE_GRID // UPSAMPLE_FACTOR}x{FEATURE_GRID // UPSAMPLE_FACTOR} patch grid")
        if vision.hidden_size % vision.num_attention_heads:
            problems.append(f"vision_config.hidden_size {vision.hidden_size} is not divisible by "
                            f"num_attention_heads {vision.num_attention_heads}")
        if vision.hidden_size % 2:
            problems.append(f"vision_config.hidden_size {vision.hidden_size} must be even (upsample width)")
        if vision_raw.get("qk_normalization"):
            problems.append("vision_config.qk_normalization is not supported (TokenFD's InternViT-300M has none)")
        if vision.norm_type not in ("layer_norm", "rms_norm"):
            problems.append(f"vision_config.norm_type {vision.norm_type!r} is not layer_norm or rms_norm")
        if problems:
            raise CheckpointError("config.json is not a usable TokenFD config:\n  " + "\n  ".join(problems))
        return cls(vision=vision, feature_dim=feature_dim, vocab_size=vocab_size, name=name)


# Vocabulary of the locally trained fixture tokenizer (fixtures.py); the tiny and
# bench checkpoints' embedding tables have exactly this many rows.
FIXTURE_VOCAB_SIZE = 512
# InternLM2's tokenizer: 92544 sentencepiece pieces + 9 added special tokens.
INTERNLM2_VOCAB_SIZE = 92553

_INTERNVIT_300M = VisionConfig()

CONFIGS: dict[str, TokenFDConfig] = {
    # Fixture: the same graph in miniature (the 32x32 patch grid and 128x128 maps stay).
    "tiny": TokenFDConfig(
        VisionConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128),
        feature_dim=32, vocab_size=FIXTURE_VOCAB_SIZE, name="tiny"),
    # Mid-size for benchmarks: big enough that the matmuls dominate.
    "bench": TokenFDConfig(
        VisionConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=6, intermediate_size=1536),
        feature_dim=384, vocab_size=FIXTURE_VOCAB_SIZE, name="bench"),
    # TongkunGuan/TokenFD_2048_Bilingual_seg
    "official-2048": TokenFDConfig(_INTERNVIT_300M, feature_dim=2048, vocab_size=INTERNLM2_VOCAB_SIZE,
                                   name="official-2048"),
    # TongkunGuan/TokenFD_4096_English_seg
    "official-4096": TokenFDConfig(_INTERNVIT_300M, feature_dim=4096, vocab_size=INTERNLM2_VOCAB_SIZE,
                                   name="official-4096"),
}


def get_config(name: str) -> TokenFDConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown TokenFD config {name!r}; known: {', '.join(CONFIGS)}") from None
