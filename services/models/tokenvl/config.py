"""TokenVL configuration: the named sizes and the upstream config.json (torch-free).

An upstream checkpoint's config.json is the InternVL chat layout: `vision_config` (the
InternViT, parsed by TokenFD's config) and `llm_config` (InternLM2). The numbers of the
serving path (tokens per tile, context length, image cap) live here and nowhere else.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from services.models.tokenfd.config import DEFAULT_MAX_TILES, TILE_SIZE, CheckpointError, VisionConfig, encoder_tiles

TOKENS_PER_TILE = 256            # 32x32 abstracted tokens, pixel shuffle 0.5 -> 16x16
ABSTRACTOR_WINDOW = 4            # the token abstractor pools 4x4 windows of the 128x128 map
PIXEL_SHUFFLE = 0.5
DEFAULT_CONTEXT_LENGTH = 8192    # prompt + generated tokens of one request
DEFAULT_MAX_IMAGES = 4           # images per request (each up to DEFAULT_MAX_TILES + thumbnail)
DEFAULT_MAX_TOKENS = 512         # generated tokens when a request names none (InternVL's usual)
VISION_MAX_BATCH_SIZE = 16       # tiles per vision-encoder execution (the Triton max_batch_size)

__all__ = ["ABSTRACTOR_WINDOW", "CONFIGS", "CheckpointError", "DEFAULT_CONTEXT_LENGTH", "DEFAULT_MAX_IMAGES",
           "DEFAULT_MAX_TILES", "DEFAULT_MAX_TOKENS", "LLMConfig", "PIXEL_SHUFFLE", "TILE_SIZE", "TOKENS_PER_TILE",
           "TokenVLConfig", "VISION_MAX_BATCH_SIZE", "encoder_tiles", "get_config"]


@dataclass(frozen=True)
class LLMConfig:
    """InternLM2 (served in the Llama layout). Defaults: InternLM2.5-1.8B-class."""
    hidden_size: int = 2048
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    num_key_value_heads: int = 8
    intermediate_size: int = 8192
    vocab_size: int = 92553
    rms_norm_eps: float = 1e-5
    rope_theta: float = 1_000_000.0
    max_position_embeddings: int = 32768

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def queries_per_kv(self) -> int:
        return self.num_attention_heads // self.num_key_value_heads


@dataclass(frozen=True)
class TokenVLConfig:
    vision: VisionConfig
    llm: LLMConfig
    name: str = "tokenvl"

    @property
    def upsample_channels(self) -> int:
        return self.vision.hidden_size // 2

    @property
    def projector_width(self) -> int:
        """Input width of the projector: pixel shuffle 0.5 folds 2x2 tokens into one."""
        return int(self.vision.hidden_size / (PIXEL_SHUFFLE * PIXEL_SHUFFLE))

    @property
    def vit_layers_used(self) -> int:
        """hidden_states[-2]: the ViT's last block is not run."""
        return self.vision.num_hidden_layers - 1

    def replace(self, **changes) -> "TokenVLConfig":
        return dataclasses.replace(self, **changes)

    # --- upstream config.json ---------------------------------------------------------
    def to_upstream_json(self) -> dict[str, Any]:
        from services.models.tokenfd.config import TokenFDConfig

        data = TokenFDConfig(self.vision, feature_dim=self.llm.hidden_size,
                             vocab_size=self.llm.vocab_size).to_upstream_json()
        data["architectures"] = ["TokenVLChatModel"]
        data.pop("hidden_size")
        data.pop("vocab_size")
        data["select_layer"] = -2
        llm = self.llm
        data["llm_config"] = {
            "architectures": ["InternLM2ForCausalLM"],
            "model_type": "internlm2",
            "hidden_size": llm.hidden_size,
            "num_hidden_layers": llm.num_hidden_layers,
            "num_attention_heads": llm.num_attention_heads,
            "num_key_value_heads": llm.num_key_value_heads,
            "intermediate_size": llm.intermediate_size,
            "vocab_size": llm.vocab_size,
            "rms_norm_eps": llm.rms_norm_eps,
            "rope_theta": llm.rope_theta,
            "max_position_embeddings": llm.max_position_embeddings,
            "hidden_act": "silu",
            "bias": False,
            "tie_word_embeddings": False,
            "torch_dtype": "float32",
        }
        return data

    @classmethod
    def from_upstream_json(cls, data: dict[str, Any], *, name: str = "tokenvl") -> "TokenVLConfig":
        from services.models.tokenfd.config import TokenFDConfig

        llm_raw = data.get("llm_config")
        if not isinstance(llm_raw, dict):
            raise CheckpointError("config.json has no 'llm_config' object (TokenVL needs its InternLM2 config)")
        problems: list[str] = []

        def integer(key: str, default: int | None = None) -> int:
            value = llm_raw.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                problems.append(f"llm_config.{key} must be a positive integer, got {value!r}")
                return 1
            return value

        hidden = integer("hidden_size")
        heads = integer("num_attention_heads")
        llm = LLMConfig(hidden_size=hidden, num_hidden_layers=integer("num_hidden_layers"),
                        num_attention_heads=heads, num_key_value_heads=integer("num_key_value_heads", heads),
                        intermediate_size=integer("intermediate_size"), vocab_size=integer("vocab_size"),
                        rms_norm_eps=float(llm_raw.get("rms_norm_eps", 1e-6)),
                        rope_theta=float(llm_raw.get("rope_theta", 10000.0)),
                        max_position_embeddings=integer("max_position_embeddings", 32768))
        if llm_raw.get("rope_scaling"):
            problems.append("llm_config.rope_scaling is not supported")
        if llm_raw.get("bias"):
            problems.append("llm_config.bias is not supported (InternLM2-chat has no attention bias)")
        if hidden % heads:
            problems.append(f"llm_config.hidden_size {hidden} is not divisible by num_attention_heads {heads}")
        if heads % llm.num_key_value_heads:
            problems.append(f"llm_config.num_attention_heads {heads} is not a multiple of num_key_value_heads "
                            f"{llm.num_key_value_heads}")
        if data.get("downsample_ratio", PIXEL_SHUFFLE) != PIXEL_SHUFFLE or data.get("ps_version", "v2") != "v2":
            problems.append("only downsample_ratio 0.5 with ps_version v2 is supported")
        vision_data = dict(data, hidden_size=hidden, vocab_size=llm.vocab_size)
        try:
            vision = TokenFDConfig.from_upstream_json(vision_data).vision
        except CheckpointError as exc:
            problems.append(str(exc))
            vision = VisionConfig()
        if vision.num_hidden_layers < 2:
            problems.append("vision_config.num_hidden_layers must be >= 2 (TokenVL reads hidden_states[-2])")
        if problems:
            raise CheckpointError("config.json is not a usable TokenVL config:\n  " + "\n  ".join(problems))
        return cls(vision=vision, llm=llm, name=name)


_INTERNVIT_300M = VisionConfig()

CONFIGS: dict[str, TokenVLConfig] = {
    # Plumbing fixture: the real graph in miniature (32x32 patch grid, 256 tokens per tile stay).
    "tiny": TokenVLConfig(
        VisionConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128),
        LLMConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  intermediate_size=128, vocab_size=0, rope_theta=1_000_000.0, rms_norm_eps=1e-5,
                  max_position_embeddings=DEFAULT_CONTEXT_LENGTH),
        name="tiny"),
    # Mid-size for the decode benchmark (the recipes' trial size: hidden 512, 8 layers).
    "bench": TokenVLConfig(
        VisionConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128),
        LLMConfig(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=4,
                  intermediate_size=1408, vocab_size=0, max_position_embeddings=DEFAULT_CONTEXT_LENGTH),
        name="bench"),
    "official-2b": TokenVLConfig(_INTERNVIT_300M, LLMConfig(), name="official-2b"),
    "official-8b": TokenVLConfig(_INTERNVIT_300M, LLMConfig(
        hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
        intermediate_size=14336), name="official-8b"),
}


def get_config(name: str) -> TokenVLConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown TokenVL config {name!r}; known: {', '.join(CONFIGS)}") from None
