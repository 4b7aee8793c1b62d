"""Seeded TokenFD checkpoints in the upstream layout, for tests, benchmarks and the
embedded default model (torch-free: numpy + safetensors + sentencepiece).

`build_tiny_checkpoint` writes what an official checkpoint directory holds, with
upstream key names and config keys, so the real loader is what reads it:

    config.json          internvl_chat layout, D = top-level hidden_size, no llm_config
    model.safetensors    upstream tensor names (vision_model.*, upsample.*, ocr_mlp.*,
                         tok_embeddings.weight, t_prime, b)
    tokenizer.model      a small BPE sentencepiece model trained here, in seconds,
                         with InternLM2's normaliser settings (no dummy-prefix space)

The weights are random: the fixture exercises plumbing and numerics, never quality.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from services.models.checkpoints import CONFIG_FILE
from services.models.tokenfd.config import FIXTURE_VOCAB_SIZE, TokenFDConfig, get_config

WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.model"

# The tokenizer's training text: plain English about documents, written for this
# fixture. Repeated words give the BPE merges something to learn.
FIXTURE_TEXT = """\
Percept finds text in document images and answers where a word appears on the page.
The invoice total is printed at the bottom of the page, next to the date and the tax.
A receipt lists every item, its price and the total amount paid by the customer.
The report has a title, a table of contents, several sections and a short summary.
Scanned forms often contain handwritten names, addresses, phone numbers and signatures.
Each page of the document is split into tiles, and every tile is encoded by the model.
The model compares the features of the image with the embedding of every query token.
Where the similarity is high, the text of the query is likely to be found in the image.
Charts show the revenue of the company for each quarter of the year in a bar chart.
The table has three columns: the name of the product, the quantity and the unit price.
Please sign the contract on the last page and return a copy to the office by Friday.
The meeting starts at nine in the morning and ends before noon in the main room.
Reading order matters: the text is read from the top left to the bottom right.
Small fonts, rotated lines and low contrast make the text in an image harder to read.
Numbers such as 42, 2025, 3.14 and 100% are split into single digits by the tokenizer.
"""
SEED_TEXT_REPEAT = 8


def train_fixture_tokenizer(vocab_size: int = FIXTURE_VOCAB_SIZE) -> bytes:
    """A BPE sentencepiece model shaped like InternLM2's: byte fallback, unk/bos/eos
    = 0/1/2, identity normalisation, no dummy prefix, whitespace kept as is (so the
    query rule's explicit leading space decides the word-initial pieces)."""
    import sentencepiece as spm

    lines = [line for line in FIXTURE_TEXT.splitlines() if line] * SEED_TEXT_REPEAT
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size, model_type="bpe",
        byte_fallback=True, split_digits=True, add_dummy_prefix=False, remove_extra_whitespaces=False,
        normalization_rule_name="identity", character_coverage=1.0, num_threads=1, minloglevel=2,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, hard_vocab_limit=True)
    return model.getvalue()


def random_upstream_state(config: TokenFDConfig, seed: int) -> dict[str, np.ndarray]:
    """float32 tensors under upstream names, scaled like a trained network (weights
    ~ 1/sqrt(fan_in), layer scales ~ 0.1 + noise) so activations stay O(1) and the
    similarity maps are not degenerate. BatchNorm statistics are non-trivial
    (random mean, positive variance) so parity tests exercise them."""
    rng = np.random.default_rng(seed)
    v = config.vision
    C, D, M, P = v.hidden_size, config.feature_dim, v.intermediate_size, v.patch_size
    H = config.upsample_channels
    positions = v.patch_grid ** 2 + 1

    def normal(*shape: int, scale: float) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm_weight(n: int) -> np.ndarray:
        return (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)

    state: dict[str, np.ndarray] = {}
    prefix = "vision_model.embeddings."
    state[prefix + "class_embedding"] = normal(1, 1, C, scale=0.02)
    state[prefix + "patch_embedding.weight"] = normal(C, 3, P, P, scale=(3 * P * P) ** -0.5)
    state[prefix + "patch_embedding.bias"] = normal(C, scale=0.02)
    state[prefix + "position_embedding"] = normal(1, positions, C, scale=0.02)
    for i in range(v.num_hidden_layers):
        layer = f"vision_model.encoder.layers.{i}."
        state[layer + "attn.qkv.weight"] = normal(3 * C, C, scale=C ** -0.5)
        if v.qkv_bias:
            state[layer + "attn.qkv.bias"] = normal(3 * C, scale=0.02)
        state[layer + "attn.proj.weight"] = normal(C, C, scale=C ** -0.5)
        state[layer + "attn.proj.bias"] = normal(C, scale=0.02)
        state[layer + "mlp.fc1.weight"] = normal(M, C, scale=C ** -0.5)
        state[layer + "mlp.fc1.bias"] = normal(M, scale=0.02)
        state[layer + "mlp.fc2.weight"] = normal(C, M, scale=M ** -0.5)
        state[layer + "mlp.fc2.bias"] = normal(C, scale=0.02)
        for norm in ("norm1", "norm2"):
            state[layer + f"{norm}.weight"] = norm_weight(C)
            if v.norm_type == "layer_norm":
                state[layer + f"{norm}.bias"] = normal(C, scale=0.02)
        state[layer + "ls1"] = (0.1 + rng.random(C) * 0.1).astype(np.float32)
        state[layer + "ls2"] = (0.1 + rng.random(C) * 0.1).astype(np.float32)
    # ConvTranspose2d weights are (in, out, k, k)
    for index, (c_in, c_out) in ((0, (C, H)), (2, (H, C))):
        state[f"upsample.{index}.weight"] = normal(c_in, c_out, 4, 4, scale=(c_in * 4) ** -0.5)
        bn = f"upsample.{index + 1}."
        state[bn + "weight"] = norm_weight(c_out)
        state[bn + "bias"] = normal(c_out, scale=0.1)
        state[bn + "running_mean"] = normal(c_out, scale=0.1)
        state[bn + "running_var"] = (0.5 + rng.random(c_out)).astype(np.float32)
        state[bn + "num_batches_tracked"] = np.array(1000, dtype=np.int64)
    state["ocr_mlp.0.weight"] = norm_weight(C)
    state["ocr_mlp.0.bias"] = normal(C, scale=0.02)
    state["ocr_mlp.1.weight"] = normal(D, C, scale=C ** -0.5)
    state["ocr_mlp.1.bias"] = normal(D, scale=0.02)
    state["ocr_mlp.3.weight"] = normal(D, D, scale=D ** -0.5)
    state["ocr_mlp.3.bias"] = normal(D, scale=0.02)
    state["tok_embeddings.weight"] = normal(config.vocab_size, D, scale=1.0)
    # training-only loss temperature and bias: present upstream, unused at inference
    state["t_prime"] = np.array([np.log(10.0)], dtype=np.float32)
    state["b"] = np.array([-10.0], dtype=np.float32)
    return state


def build_tiny_checkpoint(out_dir: str | Path, *, seed: int = 0, size: str = "tiny") -> Path:
    """Write a seeded checkpoint (named config `size`) in the upstream layout; returns
    the directory. Deterministic: the same seed gives byte-identical files."""
    from safetensors.numpy import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer_model = train_fixture_tokenizer()
    config = get_config(size)
    vocab_size = _piece_count(tokenizer_model)
    if vocab_size != config.vocab_size:
        config = config.replace(vocab_size=vocab_size)
    (out / TOKENIZER_FILE).write_bytes(tokenizer_model)
    (out / CONFIG_FILE).write_text(json.dumps(config.to_upstream_json(), indent=2, sort_keys=True) + "\n")
    save_file(random_upstream_state(config, seed), str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    return out


def _piece_count(tokenizer_model: bytes) -> int:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor()
    processor.LoadFromSerializedProto(tokenizer_model)
    return int(processor.GetPieceSize())
