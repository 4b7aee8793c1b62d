"""The threshold and the decoding travel with the model: a checkpoint's record (tokenfd_mini.json) ->
the export's tokenfd.json -> tokenfd_locate's config parameters. Official checkpoints record none, and
their export and config say so (the gateway then keeps upstream's 0.2 and upstream's reading)."""
import json
import math

import numpy as np
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from services.models.tokenfd.checkpoint import RECORD_FILE, CheckpointError, Recorded, load_config, read_record
from services.models.tokenfd.query_matches import Decoding
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.repository import build_repository
from tests.conftest import RECORDED_DECODING, RECORDED_NAME, RECORDED_THRESHOLD


def _locate_parameters(repository) -> dict[str, str]:
    config = text_format.Parse((repository / contract.TOKENFD_LOCATE / "config.pbtxt").read_text(), mc.ModelConfig())
    return {key: value.string_value for key, value in config.parameters.items()}


# --- the record ----------------------------------------------------------------------------
def test_a_checkpoint_without_a_record_records_nothing(tmp_path):
    assert read_record(tmp_path) == Recorded(name=None, threshold=None)


def test_the_record_gives_the_name_and_threshold(tmp_path):
    (tmp_path / RECORD_FILE).write_text(json.dumps({"name": "tokenfd-mini", "threshold": 0.45, "steps": 9}))
    assert read_record(tmp_path) == Recorded(name="tokenfd-mini", threshold=0.45)
    (tmp_path / RECORD_FILE).write_text(json.dumps({"threshold": -1}))   # an integer cosine is a cosine
    assert read_record(tmp_path) == Recorded(name=None, threshold=-1.0)


def test_the_record_gives_the_decoding(tmp_path):
    (tmp_path / RECORD_FILE).write_text(json.dumps({"threshold": 0.2, "decoding": {"peak_share": 0.6, "rank": "mass"}}))
    assert read_record(tmp_path).decoding == Decoding(peak_share=0.6, rank="mass")


@pytest.mark.parametrize("content, problem", [
    ("not json", "not valid JSON"), ("[0.3]", "not a JSON object"),
    (json.dumps({"threshold": 1.5}), "threshold"), (json.dumps({"threshold": "0.3"}), "threshold"),
    (json.dumps({"threshold": True}), "threshold"), ('{"threshold": NaN}', "threshold"),
    (json.dumps({"name": ""}), "name"), (json.dumps({"name": 7}), "name"),
    (json.dumps({"decoding": {"peak_share": 1.2}}), "decoding"), (json.dumps({"decoding": "mass"}), "decoding"),
    (json.dumps({"decoding": {"rank": "area"}}), "decoding"),
])
def test_a_bad_record_is_refused_naming_what_is_wrong(tmp_path, content, problem):
    (tmp_path / RECORD_FILE).write_text(content)
    with pytest.raises(CheckpointError, match=problem):
        read_record(tmp_path)


def test_the_served_name_is_the_recorded_one_else_the_directory_s(tiny_checkpoint, tmp_path):
    import shutil

    copy = shutil.copytree(tiny_checkpoint, tmp_path / "some-directory")
    assert load_config(copy).name == "some-directory"
    (copy / RECORD_FILE).write_text(json.dumps({"name": "tokenfd-mini", "threshold": 0.3}))
    assert load_config(copy).name == "tokenfd-mini"


# --- the export (one real export of a tiny checkpoint with a record: tests/conftest.py) ------
def test_the_export_writes_the_recorded_threshold_and_name(tokenfd_recorded_build):
    metadata = json.loads((tokenfd_recorded_build.export / "tokenfd.json").read_text())
    assert metadata["threshold"] == RECORDED_THRESHOLD
    assert metadata["name"] == RECORDED_NAME
    assert metadata["source_checkpoint"] == tokenfd_recorded_build.checkpoint.name != RECORDED_NAME
    parameters = _locate_parameters(tokenfd_recorded_build.repository)
    assert float(parameters[contract.LOC_THRESHOLD_PARAMETER]) == RECORDED_THRESHOLD
    assert parameters[contract.LOC_MODEL_NAME_PARAMETER] == RECORDED_NAME
    assert metadata["decoding"] == RECORDED_DECODING
    assert json.loads(parameters[contract.LOC_DECODING_PARAMETER]) == RECORDED_DECODING


def test_an_official_layout_checkpoint_exports_no_threshold(tokenfd_artifacts):
    # The tiny fixture is written in the official layout, without a record: the official path.
    metadata = json.loads((tokenfd_artifacts.export / "tokenfd.json").read_text())
    assert "threshold" in metadata and metadata["threshold"] is None
    assert "decoding" in metadata and metadata["decoding"] is None
    parameters = _locate_parameters(tokenfd_artifacts.repository)
    assert contract.LOC_THRESHOLD_PARAMETER not in parameters and contract.LOC_DECODING_PARAMETER not in parameters


# --- the repository builder ------------------------------------------------------------------
@pytest.fixture()
def export_dir(tmp_path):
    """A synthetic export: the builder only copies the files, and reads tokenfd.json and the table's shape."""
    export = tmp_path / "export"
    export.mkdir()
    np.save(export / "tok_embeddings.npy", np.zeros((50, 24), dtype=np.float32))
    (export / "tokenizer.model").write_bytes(b"tokenizer placeholder")
    (export / "tokenfd.json").write_text(json.dumps({"name": "synthetic", "D": 24, "vocab_size": 50}))
    (export / "encoder.cpu.onnx").write_bytes(b"cpu onnx placeholder")
    return export


def _with_threshold(export, threshold):
    meta = export / "tokenfd.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "threshold": threshold}))


def test_the_builder_puts_the_threshold_in_the_locate_config(tmp_path, export_dir):
    _with_threshold(export_dir, 0.35)
    parameters = _locate_parameters(build_repository("cpu", export_dir, tmp_path / "repo"))
    assert parameters[contract.LOC_THRESHOLD_PARAMETER] == "0.35"
    _with_threshold(export_dir, None)
    parameters = _locate_parameters(build_repository("cpu", export_dir, tmp_path / "repo2"))
    assert contract.LOC_THRESHOLD_PARAMETER not in parameters


@pytest.mark.parametrize("threshold", [1.5, -2, "0.3", True, math.nan])
def test_the_builder_refuses_a_threshold_that_is_no_cosine(tmp_path, export_dir, threshold):
    _with_threshold(export_dir, threshold)
    with pytest.raises(ValueError, match="threshold"):
        build_repository("cpu", export_dir, tmp_path / "repo")
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize("decoding", [{"peak_share": 1.5, "rank": "peak"}, {"rank": "area"}, "mass", [0.5]])
def test_the_builder_refuses_a_decoding_it_cannot_read(tmp_path, export_dir, decoding):
    meta = export_dir / "tokenfd.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "decoding": decoding}))
    with pytest.raises(ValueError, match="decoding"):
        build_repository("cpu", export_dir, tmp_path / "repo")
    assert not (tmp_path / "repo").exists()
