"""The upstream checkpoint loader: layouts, name map, and refusal messages.

Checkpoints are written here in the upstream layout and naming (tiny config); the
loaded model is checked against an independent forward pass written from the
upstream formulas in docs/tokenfd.md, over the upstream tensor names."""
import json
import math

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from torch.nn import functional as F

from services.models.tokenfd import checkpoint as ckpt
from services.models.tokenfd.config import CheckpointError, TokenFDConfig, get_config
from services.models.tokenfd.fixtures import build_tiny_checkpoint, random_upstream_state

CONFIG = get_config("tiny")


def upstream_state(seed=0):
    return random_upstream_state(CONFIG, seed)


def write_checkpoint(directory, state, *, fmt="safetensors", shards=1, config=None):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config or CONFIG.to_upstream_json()))
    names = list(state)
    parts = [names[i::shards] for i in range(shards)]
    weight_map = {}
    for k, part in enumerate(parts, start=1):
        if fmt == "safetensors":
            filename = "model.safetensors" if shards == 1 else f"model-{k:05d}-of-{shards:05d}.safetensors"
            save_file({n: state[n] for n in part}, str(directory / filename))
        else:
            filename = "pytorch_model.bin" if shards == 1 else f"pytorch_model-{k:05d}-of-{shards:05d}.bin"
            torch.save({n: torch.from_numpy(np.array(state[n])) for n in part}, directory / filename)
        weight_map.update({n: filename for n in part})
    if shards > 1:
        index = "model.safetensors.index.json" if fmt == "safetensors" else "pytorch_model.bin.index.json"
        (directory / index).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return directory


# --- an independent forward over upstream names -------------------------------------------
def upstream_features(state, config: TokenFDConfig, pixels):
    """extract_feature_custom as upstream computes it, from the raw upstream tensors."""
    t = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    v = config.vision
    C, heads = v.hidden_size, v.num_attention_heads
    x = F.conv2d(pixels, t["vision_model.embeddings.patch_embedding.weight"],
                 t["vision_model.embeddings.patch_embedding.bias"], stride=v.patch_size)
    x = x.flatten(2).transpose(1, 2)
    cls = t["vision_model.embeddings.class_embedding"].expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1) + t["vision_model.embeddings.position_embedding"]
    for i in range(v.num_hidden_layers):
        p = f"vision_model.encoder.layers.{i}."
        h = F.layer_norm(x, (C,), t[p + "norm1.weight"], t[p + "norm1.bias"], v.layer_norm_eps)
        qkv = F.linear(h, t[p + "attn.qkv.weight"], t[p + "attn.qkv.bias"])
        B, N, _ = qkv.shape
        q, k, val = qkv.reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(C // heads), dim=-1)
        h = (attn @ val).transpose(1, 2).reshape(B, N, C)
        x = x + t[p + "ls1"] * F.linear(h, t[p + "attn.proj.weight"], t[p + "attn.proj.bias"])
        h = F.layer_norm(x, (C,), t[p + "norm2.weight"], t[p + "norm2.bias"], v.layer_norm_eps)
        h = F.linear(F.gelu(F.linear(h, t[p + "mlp.fc1.weight"], t[p + "mlp.fc1.bias"])),
                     t[p + "mlp.fc2.weight"], t[p + "mlp.fc2.bias"])
        x = x + t[p + "ls2"] * h
    side = v.patch_grid
    x = x[:, 1:].transpose(1, 2).reshape(x.shape[0], C, side, side)   # no final norm
    for conv, bn in ((0, 1), (2, 3)):
        x = F.conv_transpose2d(x, t[f"upsample.{conv}.weight"], stride=2, padding=1)
        x = F.batch_norm(x, t[f"upsample.{bn}.running_mean"], t[f"upsample.{bn}.running_var"],
                         t[f"upsample.{bn}.weight"], t[f"upsample.{bn}.bias"], training=False, eps=1e-5)
    x = x.flatten(2).transpose(1, 2)
    x = F.layer_norm(x, (C,), t["ocr_mlp.0.weight"], t["ocr_mlp.0.bias"], 1e-5)
    x = F.gelu(F.linear(x, t["ocr_mlp.1.weight"], t["ocr_mlp.1.bias"]))
    return F.linear(x, t["ocr_mlp.3.weight"], t["ocr_mlp.3.bias"])


def test_loaded_model_computes_the_upstream_forward(tmp_path):
    state = upstream_state(seed=3)
    model, config = ckpt.load_model(write_checkpoint(tmp_path / "ck", state))
    pixels = torch.randn(2, 3, 448, 448, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ours = model.tile_features(pixels)
        expected = upstream_features(state, config, pixels)
    assert ours.shape == (2, 128 * 128, CONFIG.feature_dim)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_array_equal(model.tok_embeddings.weight.numpy(), state["tok_embeddings.weight"])


def test_qkv_is_split_by_rows_and_layer_scale_mapped(tmp_path):
    state = upstream_state()
    model, _ = ckpt.load_model(write_checkpoint(tmp_path / "ck", state))
    layer = model.vision_model.encoder.layer[1]
    qkv = state["vision_model.encoder.layers.1.attn.qkv.weight"]
    C = CONFIG.vision.hidden_size
    for index, proj in enumerate((layer.attention.q_proj, layer.attention.k_proj, layer.attention.v_proj)):
        np.testing.assert_array_equal(proj.weight.detach().numpy(), qkv[index * C:(index + 1) * C])
    np.testing.assert_array_equal(layer.lambda_1.detach().numpy(), state["vision_model.encoder.layers.1.ls1"])
    np.testing.assert_array_equal(layer.lambda_2.detach().numpy(), state["vision_model.encoder.layers.1.ls2"])
    np.testing.assert_array_equal(model.upsample[3].running_var.numpy(), state["upsample.3.running_var"])
    assert not model.training and all(p.dtype == torch.float32 for p in model.parameters())


@pytest.mark.parametrize("fmt, shards", [("safetensors", 1), ("bin", 1), ("safetensors", 3), ("bin", 2)])
def test_every_layout_loads_the_same_weights(tmp_path, fmt, shards):
    state = upstream_state()
    reference, _ = ckpt.load_model(write_checkpoint(tmp_path / "a", state))
    model, _ = ckpt.load_model(write_checkpoint(tmp_path / "b", state, fmt=fmt, shards=shards))
    for (name, a), (_, b) in zip(reference.state_dict().items(), model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_the_embedding_table_may_live_under_the_language_model(tmp_path):
    state = upstream_state()
    state["language_model.model.tok_embeddings.weight"] = state.pop("tok_embeddings.weight")
    model, _ = ckpt.load_model(write_checkpoint(tmp_path / "ck", state))
    np.testing.assert_array_equal(model.tok_embeddings.weight.numpy(),
                                  state["language_model.model.tok_embeddings.weight"])


def test_both_embedding_places_are_accepted_when_equal_and_refused_when_not(tmp_path):
    state = upstream_state()
    state["language_model.model.tok_embeddings.weight"] = state["tok_embeddings.weight"].copy()
    ckpt.load_model(write_checkpoint(tmp_path / "same", state))
    state["language_model.model.tok_embeddings.weight"] += 1
    with pytest.raises(CheckpointError, match="second, different embedding table"):
        ckpt.load_model(write_checkpoint(tmp_path / "different", state))


def test_unused_tensors_are_ignored(tmp_path):
    state = upstream_state()
    state["mlp1.0.weight"] = np.ones(8, dtype=np.float32)
    state["mlp1.1.bias"] = np.ones(8, dtype=np.float32)
    report = ckpt.check_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()}, CONFIG)
    assert report.ok and report.ignored == ["b", "mlp1.0.weight", "mlp1.1.bias", "t_prime"]
    ckpt.load_model(write_checkpoint(tmp_path / "ck", state))


def test_bf16_weights_are_loaded_as_float32(tmp_path):
    state = {k: torch.from_numpy(np.array(v)) for k, v in upstream_state().items()}
    state = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in state.items()}
    directory = tmp_path / "ck"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps(CONFIG.to_upstream_json()))
    torch.save(state, directory / "pytorch_model.bin")
    model, _ = ckpt.load_model(directory)
    assert model.ocr_mlp[1].weight.dtype == torch.float32
    torch.testing.assert_close(model.ocr_mlp[1].weight, state["ocr_mlp.1.weight"].float())


def test_num_batches_tracked_is_optional(tmp_path):
    state = upstream_state()
    del state["upsample.1.num_batches_tracked"], state["upsample.3.num_batches_tracked"]
    ckpt.load_model(write_checkpoint(tmp_path / "ck", state))


# --- refusals --------------------------------------------------------------------------
def refusal(tmp_path, state, **kwargs):
    with pytest.raises(CheckpointError) as caught:
        ckpt.load_model(write_checkpoint(tmp_path / "ck", state, **kwargs))
    return str(caught.value)


def test_missing_tensors_are_listed(tmp_path):
    state = upstream_state()
    del state["vision_model.encoder.layers.1.ls2"], state["ocr_mlp.3.bias"]
    message = refusal(tmp_path, state)
    assert "2 missing tensor(s)" in message
    assert "vision_model.encoder.layers.1.ls2" in message and "ocr_mlp.3.bias" in message


def test_a_missing_embedding_table_names_both_places(tmp_path):
    state = upstream_state()
    del state["tok_embeddings.weight"]
    message = refusal(tmp_path, state)
    assert "tok_embeddings.weight (or language_model.model.tok_embeddings.weight)" in message


def test_unexpected_tensors_are_listed(tmp_path):
    state = upstream_state()
    state["vision_model.encoder.layers.7.attn.qkv.weight"] = np.zeros((3, 3), dtype=np.float32)
    state["language_model.model.layers.0.attention.wqkv.weight"] = np.zeros((3, 3), dtype=np.float32)
    message = refusal(tmp_path, state)
    assert "2 unexpected tensor(s)" in message
    assert "vision_model.encoder.layers.7.attn.qkv.weight" in message
    assert "language_model.model.layers.0.attention.wqkv.weight" in message


def test_mis_shaped_tensors_are_listed_with_both_shapes(tmp_path):
    state = upstream_state()
    state["vision_model.encoder.layers.0.attn.qkv.weight"] = np.zeros((190, 64), dtype=np.float32)
    state["tok_embeddings.weight"] = np.zeros((512, 31), dtype=np.float32)
    message = refusal(tmp_path, state)
    assert "2 mis-shaped tensor(s)" in message
    assert "vision_model.encoder.layers.0.attn.qkv.weight: checkpoint (190, 64), expected (192, 64)" in message
    assert "tok_embeddings.weight: checkpoint (512, 31), expected (512, 32)" in message


def test_all_kinds_of_problems_are_reported_together(tmp_path):
    state = upstream_state()
    del state["upsample.0.weight"]
    state["extra.weight"] = np.zeros(1, dtype=np.float32)
    state["ocr_mlp.1.weight"] = np.zeros((32, 63), dtype=np.float32)
    message = refusal(tmp_path, state)
    for part in ("missing", "upsample.0.weight", "unexpected", "extra.weight", "mis-shaped", "ocr_mlp.1.weight"):
        assert part in message


def test_a_config_disagreeing_with_the_weights_is_refused(tmp_path):
    config = CONFIG.to_upstream_json()
    config["hidden_size"] = 48           # D in config.json, 32 in the weights
    message = refusal(tmp_path, upstream_state(), config=config)
    assert "ocr_mlp.3.weight: checkpoint (32, 32), expected (48, 48)" in message


# --- config.json -------------------------------------------------------------------------
def test_config_needs_no_llm_config(tmp_path):
    config = CONFIG.to_upstream_json()
    assert "llm_config" not in config
    write_checkpoint(tmp_path / "ck", upstream_state(), config=config)
    assert ckpt.load_config(tmp_path / "ck") == CONFIG.replace(name="ck")


@pytest.mark.parametrize("change, fragment", [
    (lambda c: c.pop("vision_config"), "vision_config"),
    (lambda c: c.pop("hidden_size"), "hidden_size must be a positive integer"),
    (lambda c: c.update(force_image_size=224), "image size 224"),
    (lambda c: c["vision_config"].update(patch_size=16), "patch size 16"),
    (lambda c: c["vision_config"].update(qk_normalization=True), "qk_normalization"),
    (lambda c: c["vision_config"].update(num_attention_heads=5), "not divisible"),
])
def test_unusable_configs_are_refused(tmp_path, change, fragment):
    config = CONFIG.to_upstream_json()
    change(config)
    write_checkpoint(tmp_path / "ck", upstream_state(), config=config)
    with pytest.raises(CheckpointError, match=fragment):
        ckpt.load_config(tmp_path / "ck")


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        ckpt.load_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(CONFIG.to_upstream_json()))
    with pytest.raises(FileNotFoundError, match="no weights"):
        ckpt.load_model(tmp_path)
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "gone.safetensors"}}))
    with pytest.raises(CheckpointError, match="gone.safetensors"):
        ckpt.load_model(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        ckpt.load_config(tmp_path)


@pytest.mark.parametrize("filename", ["model.safetensors", "pytorch_model.bin"])
def test_corrupt_weight_files_are_refused(tmp_path, filename):
    (tmp_path / "config.json").write_text(json.dumps(CONFIG.to_upstream_json()))
    (tmp_path / filename).write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="could not be read"):
        ckpt.load_model(tmp_path)


def test_a_pickle_that_runs_code_is_refused(tmp_path, capsys):
    import pickle

    class Payload:
        def __reduce__(self):
            return (print, ("pickle code ran",))

    (tmp_path / "config.json").write_text(json.dumps(CONFIG.to_upstream_json()))
    (tmp_path / "pytorch_model.bin").write_bytes(pickle.dumps({"a": Payload()}, protocol=2))
    with pytest.raises(CheckpointError, match="could not be read"):
        ckpt.load_model(tmp_path)
    assert "pickle code ran" not in capsys.readouterr().out


def test_the_fixture_is_a_valid_upstream_checkpoint_and_deterministic(tmp_path):
    a = build_tiny_checkpoint(tmp_path / "a", seed=5)
    b = build_tiny_checkpoint(tmp_path / "b", seed=5)
    c = build_tiny_checkpoint(tmp_path / "c", seed=6)
    for name in ("config.json", "model.safetensors", "tokenizer.model"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()
    state = ckpt.read_state_dict(a)
    assert set(state) == set(ckpt.upstream_shapes(CONFIG)) | {"t_prime", "b"}
    assert all(tuple(state[k].shape) == s for k, s in ckpt.upstream_shapes(CONFIG).items())
    assert (state["upsample.1.running_var"] > 0).all() and state["upsample.1.running_mean"].abs().sum() > 0
    config = json.loads((a / "config.json").read_text())
    assert config["model_type"] == "internvl_chat" and config["hidden_size"] == 32 and config["vocab_size"] == 512
