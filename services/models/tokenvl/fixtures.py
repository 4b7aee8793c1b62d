"""Seeded TokenVL checkpoints in the upstream layout, for tests, benchmarks and the embedded
default model (torch-free: numpy + safetensors + tokenizers).

    config.json          InternVL chat layout with vision_config and llm_config
    model.safetensors    upstream names: vision_model.* (TokenFD's fixture ViT), encoder_mt.*,
                         reducer_mt.*, mlp_mt.*, mlp1.* (unused), language_model.* (InternLM2,
                         with the fused, per-KV-group interleaved wqkv)
    tokenizer.json       a byte-level BPE trained here in a fraction of a second on the fixture
                         text (plus some non-ASCII text, so characters span several tokens),
                         with InternLM2's special tokens (tokens.SPECIAL_TOKENS) as added tokens

Random weights: plumbing fixtures, never a model's quality.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from services.models.checkpoints import CONFIG_FILE
from services.models.tokenfd.config import TokenFDConfig
from services.models.tokenfd.fixtures import FIXTURE_TEXT, SEED_TEXT_REPEAT
from services.models.tokenfd.fixtures import random_upstream_state as tokenfd_random_state
from services.models.tokenvl.config import TokenVLConfig, get_config
from services.models.tokenvl.tokens import SPECIAL_TOKENS, TOKENIZER_FILE

WEIGHTS_FILE = "model.safetensors"
FIXTURE_VOCAB_SIZE = 640
# Text beyond ASCII, so multi-byte characters are split over several byte-level tokens.
FIXTURE_UNICODE_TEXT = """\
Dokument: Größe, Straße, naïve café, Øresund, façade, señor.
文档问答：发票的总金额是多少？表格在第二页。
Emoji and symbols: ✓ ✗ → € £ ¥ 😀 🙂 📄.
"""


def train_fixture_tokenizer(vocab_size: int = FIXTURE_VOCAB_SIZE) -> str:
    """tokenizer.json text: byte-level BPE (every byte is a token, so any text encodes)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    lines = [line for line in (FIXTURE_TEXT + FIXTURE_UNICODE_TEXT).splitlines() if line] * SEED_TEXT_REPEAT
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(lines, trainer)
    return tokenizer.to_str()


def interleave_wqkv(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: TokenVLConfig) -> np.ndarray:
    """InternLM2's fused layout from separate projections (what a real checkpoint stores)."""
    llm = config.llm
    g, d, kv, width = llm.queries_per_kv, llm.head_dim, llm.num_key_value_heads, q.shape[-1]
    grouped = np.concatenate([q.reshape(kv, g, d, width), k.reshape(kv, 1, d, width), v.reshape(kv, 1, d, width)],
                             axis=1)
    return grouped.reshape(-1, width)


def random_upstream_state(config: TokenVLConfig, seed: int) -> dict[str, np.ndarray]:
    """float32 tensors under upstream names, scaled like a trained network."""
    rng = np.random.default_rng(seed + 1)
    v, llm = config.vision, config.llm
    C, W, H = v.hidden_size, config.projector_width, llm.hidden_size

    def normal(*shape: int, scale: float) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm_weight(n: int) -> np.ndarray:
        return (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)

    vit = tokenfd_random_state(TokenFDConfig(v, feature_dim=H, vocab_size=8), seed)
    state = {name: t for name, t in vit.items() if name.startswith("vision_model.")}
    state.update({"encoder_mt." + name: t for name, t in vit.items() if name.startswith("upsample.")})
    last = f"vision_model.encoder.layers.{v.num_hidden_layers - 1}."
    # the extra block: its own random weights, the ViT's per-layer names
    extra = tokenfd_random_state(TokenFDConfig(v, feature_dim=H, vocab_size=8), seed + 100)
    state.update({"encoder_mt.vit_layer." + name.removeprefix(last): t for name, t in extra.items()
                  if name.startswith(last)})
    state["reducer_mt.foreground_tokens.weight"] = normal(1, C, scale=C ** -0.5)
    state.update({"mlp_mt.0.weight": norm_weight(W), "mlp_mt.0.bias": normal(W, scale=0.02),
                  "mlp_mt.1.weight": normal(H, W, scale=W ** -0.5), "mlp_mt.1.bias": normal(H, scale=0.02),
                  "mlp_mt.3.weight": normal(H, H, scale=H ** -0.5), "mlp_mt.3.bias": normal(H, scale=0.02)})
    state.update({"mlp1.0.weight": norm_weight(W), "mlp1.1.weight": normal(H, W, scale=W ** -0.5)})  # unused
    d, q_heads, kv = llm.head_dim, llm.num_attention_heads, llm.num_key_value_heads
    state["language_model.model.tok_embeddings.weight"] = normal(llm.vocab_size, H, scale=1.0)
    for i in range(llm.num_hidden_layers):
        layer = f"language_model.model.layers.{i}."
        state[layer + "attention.wqkv.weight"] = interleave_wqkv(
            normal(q_heads * d, H, scale=H ** -0.5), normal(kv * d, H, scale=H ** -0.5),
            normal(kv * d, H, scale=H ** -0.5), config)
        state[layer + "attention.wo.weight"] = normal(H, q_heads * d, scale=(q_heads * d) ** -0.5)
        state[layer + "feed_forward.w1.weight"] = normal(llm.intermediate_size, H, scale=H ** -0.5)
        state[layer + "feed_forward.w3.weight"] = normal(llm.intermediate_size, H, scale=H ** -0.5)
        state[layer + "feed_forward.w2.weight"] = normal(H, llm.intermediate_size,
                                                         scale=llm.intermediate_size ** -0.5)
        state[layer + "attention_norm.weight"] = norm_weight(H)
        state[layer + "ffn_norm.weight"] = norm_weight(H)
    state["language_model.model.norm.weight"] = norm_weight(H)
    # A larger output scale gives peaked logits, so greedy choices are not near-ties.
    state["language_model.output.weight"] = normal(llm.vocab_size, H, scale=4 * H ** -0.5)
    return state


def build_tiny_checkpoint(out_dir: str | Path, *, seed: int = 0, size: str = "tiny") -> Path:
    """Write a seeded checkpoint (named config `size`) in the upstream layout; deterministic."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer_json = train_fixture_tokenizer()
    vocab_size = Tokenizer.from_str(tokenizer_json).get_vocab_size(with_added_tokens=True)
    base = get_config(size)
    config = base.replace(llm=base.llm.__class__(**{**base.llm.__dict__, "vocab_size": vocab_size}))
    (out / TOKENIZER_FILE).write_text(tokenizer_json)
    (out / CONFIG_FILE).write_text(json.dumps(config.to_upstream_json(), indent=2, sort_keys=True,
                                              ensure_ascii=False) + "\n")
    save_file(random_upstream_state(config, seed), str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    return out
