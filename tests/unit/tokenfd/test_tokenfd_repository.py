"""TokenFD's repository entries: both targets, every config parsed with Triton's own schema.

The builder only copies the engine file, so the export here is a synthetic one (a
small embedding table, placeholder ONNX/plan bytes); serving a real export is the
integration suite's job (tests/integration/triton).
"""
import json

import numpy as np
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from services.common.images import decode_image
from services.models.tokenfd.config import DEFAULT_MAX_TILES, ENCODER_MAX_BATCH_SIZE
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.repository import WARMUP_QUERY, RepositoryOptions, build_repository, main
from services.triton.repository import MANIFEST, Target

DIM = 24


@pytest.fixture()
def export_dir(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    np.save(export / "tok_embeddings.npy", np.zeros((50, DIM), dtype=np.float32))
    (export / "tokenizer.model").write_bytes(b"tokenizer placeholder")
    (export / "tokenfd.json").write_text(json.dumps({"name": "synthetic", "D": DIM, "vocab_size": 50}))
    (export / "encoder.onnx").write_bytes(b"onnx placeholder")
    (export / "encoder.cpu.onnx").write_bytes(b"cpu onnx placeholder")
    (export / "model.plan").write_bytes(b"placeholder plan: no GPU on this machine")
    return export


def _config(repository, model):
    return text_format.Parse((repository / model / "config.pbtxt").read_text(), mc.ModelConfig())


def _tensors(entries):
    return {t.name: (t.data_type, list(t.dims)) for t in entries}


@pytest.mark.parametrize("target", list(Target))
def test_encoder_config(tmp_path, export_dir, target):
    repository = build_repository(target, export_dir, tmp_path / "repo")
    config = _config(repository, contract.TOKENFD_ENCODER)
    assert config.name == contract.TOKENFD_ENCODER
    assert config.max_batch_size == ENCODER_MAX_BATCH_SIZE
    assert _tensors(config.input) == {
        contract.ENC_PIXELS: (mc.TYPE_FP32, [3, contract.TILE_SIZE, contract.TILE_SIZE]),
        contract.ENC_QUERY: (mc.TYPE_FP32, [-1, DIM]),
    }
    assert _tensors(config.output) == {
        contract.ENC_SIMILARITY: (mc.TYPE_FP32, [-1, contract.FEATURE_GRID, contract.FEATURE_GRID])}

    assert config.HasField("dynamic_batching")
    batching = config.dynamic_batching
    assert batching.max_queue_delay_microseconds == (2_000 if target is Target.CPU else 20_000)
    assert batching.default_queue_policy.max_queue_size == 64
    assert batching.default_queue_policy.timeout_action == mc.ModelQueuePolicy.REJECT
    assert not batching.preferred_batch_size  # not recommended for most models

    (group,) = config.instance_group
    assert group.count == 1
    (warmup,) = config.model_warmup
    assert warmup.batch_size == 1
    assert warmup.inputs[contract.ENC_PIXELS].zero_data
    assert list(warmup.inputs[contract.ENC_PIXELS].dims) == [3, contract.TILE_SIZE, contract.TILE_SIZE]
    assert list(warmup.inputs[contract.ENC_QUERY].dims) == [1, DIM]

    version = repository / contract.TOKENFD_ENCODER / "1"
    if target is Target.CPU:
        assert config.backend == "python" and not config.platform
        assert group.kind == mc.ModelInstanceGroup.KIND_CPU
        assert config.parameters["onnx_file"].string_value == "encoder.cpu.onnx"
        assert sorted(p.name for p in version.iterdir()) == ["encoder.cpu.onnx", "model.py"]
    else:
        assert config.platform == "tensorrt_plan" and not config.backend
        assert config.default_model_filename == "model.plan"
        assert group.kind == mc.ModelInstanceGroup.KIND_GPU
        assert sorted(p.name for p in version.iterdir()) == ["model.plan"]


@pytest.mark.parametrize("target", list(Target))
def test_locate_config_is_the_same_on_both_targets(tmp_path, export_dir, target):
    repository = build_repository(target, export_dir, tmp_path / "repo")
    config = _config(repository, contract.TOKENFD_LOCATE)
    assert config.backend == "python"
    assert config.max_batch_size == 0  # the contract's shapes carry no batch axis
    assert _tensors(config.input) == {
        contract.LOC_IMAGE: (mc.TYPE_STRING, [1]),
        contract.LOC_QUERY: (mc.TYPE_STRING, [1]),
        contract.LOC_MAX_TILES: (mc.TYPE_INT32, [1]),
        contract.LOC_SPELL: (mc.TYPE_BOOL, [1]),
    }
    assert [t.name for t in config.input if t.optional] == [contract.LOC_MAX_TILES, contract.LOC_SPELL]
    assert _tensors(config.output) == {
        contract.LOC_SIMILARITY: (mc.TYPE_FP32, [-1, -1, -1]),
        contract.LOC_TOKEN_IDS: (mc.TYPE_INT64, [-1]),
        contract.LOC_TOKEN_TEXTS: (mc.TYPE_STRING, [-1]),
        contract.LOC_GRID: (mc.TYPE_INT32, [2]),
        contract.LOC_NUM_TILES: (mc.TYPE_INT32, [1]),
        contract.LOC_IMAGE_SIZE: (mc.TYPE_INT32, [2]),
        contract.LOC_LETTER_SIMILARITY: (mc.TYPE_FP32, [-1, -1, -1]),
        contract.LOC_LETTER_TEXTS: (mc.TYPE_STRING, [-1]),
    }
    (group,) = config.instance_group
    assert group.kind == mc.ModelInstanceGroup.KIND_CPU and group.count == 2
    assert config.parameters["max_tiles"].string_value == str(DEFAULT_MAX_TILES)
    assert config.parameters["encoder_max_batch_size"].string_value == str(ENCODER_MAX_BATCH_SIZE)

    # BLS is rejected until the server is ready, so locate warms up in initialize() instead
    # of through model_warmup; the builder ships the sample it uses.
    assert not config.model_warmup
    assert config.parameters["warmup"].string_value == "true"
    model_dir = repository / contract.TOKENFD_LOCATE
    assert decode_image((model_dir / "warmup" / "image.png").read_bytes()).size == (160, 64)
    assert (model_dir / "warmup" / "query.txt").read_text() == WARMUP_QUERY

    version = model_dir / "1"
    assert sorted(p.name for p in version.iterdir()) == [
        "model.py", "tok_embeddings.npy", "tokenfd.json", "tokenizer.model"]
    manifest = json.loads((repository / MANIFEST).read_text())
    assert manifest["target"] == target.value
    assert manifest["models"] == [contract.TOKENFD_ENCODER, contract.TOKENFD_LOCATE]
    assert manifest["families"]["tokenfd"]["dim"] == DIM


def test_options_reach_the_configs(tmp_path, export_dir):
    options = RepositoryOptions(encoder_max_batch_size=8, encoder_queue_delay_us=500, encoder_instances=3,
                                locate_instances=4, max_tiles=6, warmup=False)
    repository = build_repository("cpu", export_dir, tmp_path / "repo", options=options)
    encoder = _config(repository, contract.TOKENFD_ENCODER)
    locate = _config(repository, contract.TOKENFD_LOCATE)
    assert encoder.max_batch_size == 8
    assert encoder.dynamic_batching.max_queue_delay_microseconds == 500
    assert encoder.instance_group[0].count == 3
    assert locate.instance_group[0].count == 4
    assert locate.parameters["max_tiles"].string_value == "6"
    assert locate.parameters["encoder_max_batch_size"].string_value == "8"
    assert not encoder.model_warmup and locate.parameters["warmup"].string_value == "false"
    assert not (repository / contract.TOKENFD_LOCATE / "warmup").exists()


def test_missing_artifacts_fail_before_anything_is_written(tmp_path, export_dir):
    (export_dir / "model.plan").unlink()
    out = tmp_path / "repo"
    with pytest.raises(FileNotFoundError, match="export_tensorrt"):
        build_repository("gpu", export_dir, out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no staging directory left behind


def test_embedding_dim_must_agree_with_metadata(tmp_path, export_dir):
    (export_dir / "tokenfd.json").write_text(json.dumps({"D": DIM + 1}))
    with pytest.raises(ValueError, match="D="):
        build_repository("cpu", export_dir, tmp_path / "repo")


def test_cli_builds_the_gpu_target_with_an_explicit_plan(tmp_path, export_dir, capsys):
    plan = tmp_path / "elsewhere.plan"
    plan.write_bytes(b"another placeholder")
    out = tmp_path / "repo"
    assert main(["--target", "gpu", "--artifacts", str(export_dir), "--out", str(out), "--plan", str(plan),
                 "--encoder-max-batch-size", "4"]) == 0
    assert (out / contract.TOKENFD_ENCODER / "1" / "model.plan").read_bytes() == b"another placeholder"
    assert _config(out, contract.TOKENFD_ENCODER).max_batch_size == 4
    assert main(["--target", "gpu", "--artifacts", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "missing" in capsys.readouterr().err
