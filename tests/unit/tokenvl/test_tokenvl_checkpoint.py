"""The strict TokenVL loader on checkpoints this test writes in the upstream layout.

The InternLM2 names below are spelled out here, from the upstream layout (docs/tokenvl.md),
not derived from the loader's name map."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from services.models.tokenvl import checkpoint as ckpt
from services.models.tokenvl.config import CheckpointError, get_config
from services.models.tokenvl.fixtures import build_tiny_checkpoint

LLM_LAYER_NAMES = ("attention.wqkv.weight", "attention.wo.weight", "feed_forward.w1.weight",
                   "feed_forward.w2.weight", "feed_forward.w3.weight", "attention_norm.weight", "ffn_norm.weight")


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tokenvl") / "tiny", seed=0)


def _state(checkpoint_dir):
    return ckpt.read_state_dict(checkpoint_dir)


def _write(directory, state, config_json):
    from safetensors.torch import save_file

    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps(config_json))
    save_file({k: v.contiguous() for k, v in state.items()}, str(directory / "model.safetensors"))
    return directory


def test_the_upstream_layout_has_internlm2_and_tokenvl_names(checkpoint_dir):
    config = ckpt.load_config(checkpoint_dir)
    names = set(_state(checkpoint_dir))
    for i in range(config.llm.num_hidden_layers):
        assert {f"language_model.model.layers.{i}.{n}" for n in LLM_LAYER_NAMES} <= names
    assert {"language_model.model.tok_embeddings.weight", "language_model.model.norm.weight",
            "language_model.output.weight", "reducer_mt.foreground_tokens.weight", "mlp_mt.0.weight",
            "mlp_mt.1.weight", "mlp_mt.3.weight", "encoder_mt.vit_layer.attn.qkv.weight",
            "encoder_mt.upsample.0.weight", "encoder_mt.upsample.3.running_var",
            "vision_model.embeddings.patch_embedding.weight"} <= names


def test_missing_unexpected_and_mis_shaped_tensors_are_all_listed(checkpoint_dir, tmp_path):
    state = _state(checkpoint_dir)
    config_json = json.loads((checkpoint_dir / "config.json").read_text())
    del state["language_model.model.layers.1.attention.wo.weight"]
    del state["reducer_mt.foreground_tokens.weight"]
    state["language_model.model.layers.0.attention.extra.weight"] = torch.zeros(2)
    state["mlp_mt.1.weight"] = torch.zeros(3, 3)
    state["mlp1.1.weight"] = torch.zeros(5)    # InternVL's own projector: ignored, not an error
    broken = _write(tmp_path / "broken", state, config_json)
    with pytest.raises(CheckpointError) as raised:
        ckpt.load_model(broken)
    message = str(raised.value)
    for expected in ("2 missing", "language_model.model.layers.1.attention.wo.weight",
                     "reducer_mt.foreground_tokens.weight", "1 unexpected",
                     "language_model.model.layers.0.attention.extra.weight", "1 mis-shaped",
                     "mlp_mt.1.weight: checkpoint (3, 3)"):
        assert expected in message
    assert "mlp1" not in message


def test_a_config_without_llm_config_is_refused(checkpoint_dir, tmp_path):
    config_json = json.loads((checkpoint_dir / "config.json").read_text())
    del config_json["llm_config"]
    with pytest.raises(CheckpointError, match="llm_config"):
        ckpt.load_config(_write(tmp_path / "no-llm", {}, config_json))


def test_wqkv_is_de_interleaved_per_kv_group():
    """Rows of InternLM2's wqkv, written here by hand: for each KV head g, its q_per_kv query
    heads, then its key head, then its value head. Each row holds its own label."""
    config = get_config("tiny")
    llm = config.llm
    g, d, kv = llm.queries_per_kv, llm.head_dim, llm.num_key_value_heads
    rows, labels = [], []
    for group in range(kv):
        for q in range(g):
            labels += [("q", group * g + q)] * d
        labels += [("k", group)] * d + [("v", group)] * d
    code = {"q": 0, "k": 1000, "v": 2000}
    rows = np.array([[code[kind] + head] * 4 for kind, head in labels], dtype=np.float32)
    q, k, v = ckpt.deinterleave_wqkv(torch.from_numpy(rows), config)
    assert q[:, 0].tolist() == [h for h in range(llm.num_attention_heads) for _ in range(d)]
    assert k[:, 0].tolist() == [1000 + h for h in range(kv) for _ in range(d)]
    assert v[:, 0].tolist() == [2000 + h for h in range(kv) for _ in range(d)]


def test_the_loaded_llm_is_internlm2_computed_in_the_llama_layout(checkpoint_dir):
    """One attention layer's q projection, computed from the fused upstream tensor directly,
    equals the converted Llama q_proj applied to the same input."""
    model, config = ckpt.load_model(checkpoint_dir)
    state = _state(checkpoint_dir)
    llm = config.llm
    g, d = llm.queries_per_kv, llm.head_dim
    wqkv = state["language_model.model.layers.0.attention.wqkv.weight"].reshape(
        llm.num_key_value_heads, g + 2, d, llm.hidden_size)
    x = torch.randn(3, llm.hidden_size)
    upstream_q = torch.einsum("th,kgdh->tkgd", x, wqkv[:, :g]).reshape(3, -1)
    layer = model.language_model.model.layers[0].self_attn
    torch.testing.assert_close(layer.q_proj(x), upstream_q)
    assert not model.language_model.config.tie_word_embeddings
    assert not torch.equal(model.language_model.lm_head.weight, model.language_model.get_input_embeddings().weight)


@pytest.mark.parametrize("name", ["tiny", "bench", "official-2b", "official-8b"])
def test_named_configs_survive_the_upstream_config_json(name):
    from services.models.tokenvl.config import TokenVLConfig

    config = get_config(name)
    if not config.llm.vocab_size:   # fixture sizes take the tokenizer's vocabulary
        config = config.replace(llm=config.llm.__class__(**{**config.llm.__dict__, "vocab_size": 640}))
    parsed = TokenVLConfig.from_upstream_json(json.loads(json.dumps(config.to_upstream_json())), name=config.name)
    assert parsed == config
    shapes = ckpt.upstream_shapes(config)
    H = config.llm.hidden_size
    assert shapes["mlp_mt.1.weight"] == (H, 4 * config.vision.hidden_size)
    assert shapes["language_model.model.layers.0.attention.wqkv.weight"] == (
        (config.llm.num_attention_heads + 2 * config.llm.num_key_value_heads) * config.llm.head_dim, H)
