"""`make models` (services.models.build_default): what it leaves behind, and the gpu
target's clear refusal on a machine without a GPU."""
import json

import pytest

from services.models.build_default import TINY_NAME, main
from services.models.tokenfd.export_tensorrt import gpu_present
from services.triton import contract
from services.triton.repository import MANIFEST


def test_the_default_build_layout(tokenfd_artifacts):
    assert tokenfd_artifacts.checkpoint.name == TINY_NAME
    assert tokenfd_artifacts.export == tokenfd_artifacts.checkpoint.parents[1] / "export" / TINY_NAME
    for name in ("encoder.onnx", "tok_embeddings.npy", "tokenizer.model", "tokenfd.json"):
        assert (tokenfd_artifacts.export / name).is_file()
    repository = tokenfd_artifacts.repository
    assert repository.name == "model_repository"
    manifest = json.loads((repository / MANIFEST).read_text())
    assert manifest["target"] == "cpu"
    assert manifest["dim"] == json.loads((tokenfd_artifacts.export / "tokenfd.json").read_text())["D"]
    assert (repository / contract.TOKENFD_ENCODER / "1" / "encoder.onnx").is_file()
    assert (repository / contract.TOKENFD_LOCATE / "1" / "tokenizer.model").is_file()


@pytest.mark.skipif(gpu_present(), reason="checks the refusal on machines without a GPU")
def test_gpu_target_without_a_gpu_fails_before_building_anything(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "out"), "--target", "gpu"]) == 2
    assert "GPU" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_checkpoint_directory_is_reported(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "out"), "--checkpoint", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
