"""`make models` (services.models.build_default): what it leaves behind, and the gpu
target's clear refusal on a machine without a GPU."""
import json
from contextlib import nullcontext

import pytest

from services.models.build_default import TINY_NAME, main
from services.models.tokenfd.export_tensorrt import gpu_present
from services.models.tokenfd.triton import contract
from services.triton.repository import MANIFEST


def test_the_default_build_layout(tokenfd_artifacts):
    assert tokenfd_artifacts.checkpoint.name == TINY_NAME
    assert tokenfd_artifacts.export == tokenfd_artifacts.checkpoint.parents[1] / "export" / TINY_NAME
    for name in ("encoder.onnx", "encoder.cpu.onnx", "tok_embeddings.npy", "tokenizer.model", "tokenfd.json"):
        assert (tokenfd_artifacts.export / name).is_file()
    repository = tokenfd_artifacts.repository
    assert repository.name == "model_repository"
    manifest = json.loads((repository / MANIFEST).read_text())
    assert manifest["target"] == "cpu"
    exported = json.loads((tokenfd_artifacts.export / "tokenfd.json").read_text())
    assert manifest["families"]["tokenfd"]["dim"] == exported["D"]
    assert (repository / contract.TOKENFD_ENCODER / "1" / "encoder.cpu.onnx").is_file()
    assert (repository / contract.TOKENFD_LOCATE / "1" / "tokenizer.model").is_file()


@pytest.mark.skipif(gpu_present(), reason="checks the refusal on machines without a GPU")
def test_gpu_target_without_a_gpu_fails_before_building_anything(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "out"), "--target", "gpu"]) == 2
    assert "GPU" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_checkpoint_directory_is_reported(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "out"), "--checkpoint", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--family-checkpoint", "tokenvl={missing}"], ["--tokenvl-checkpoint", "{missing}"],
                                   ["--family-checkpoint", "nofamily={missing}"], ["--skip-family", "nofamily"],
                                   ["--family-checkpoint", "tokenfd"]])
def test_family_flags_are_checked_before_anything_is_built(tmp_path, capsys, flags):
    """--family-checkpoint NAME=DIR and its older aliases name a registered family and an existing directory."""
    flags = [flag.format(missing=tmp_path / "nowhere") for flag in flags]
    with pytest.raises(SystemExit) if flags[-1] == "tokenfd" else nullcontext():  # not NAME=DIR: argparse's usage
        assert main(["--out", str(tmp_path / "out"), *flags]) == 2
    assert not (tmp_path / "out").exists()
    err = capsys.readouterr().err
    assert ("does not exist" in err) or ("no registered model family" in err) or ("NAME=DIR" in err), err


def test_the_gpu_build_profiles_the_engine_for_the_repository_it_builds(tmp_path, tokenfd_artifacts, monkeypatch):
    """No GPU here: the export and the engine build are stood in for, so what is checked is
    the profile `make models --target gpu` hands TensorRT against the repository it writes."""
    import shutil

    from services.models.build_default import build_families
    from services.models.tokenfd import export_onnx, export_tensorrt
    from services.models.tokenfd.triton.repository import RepositoryOptions
    from services.triton.repository import parse

    profiles = []

    def build_plan(onnx_path, plan_path, *, profile, **_):
        profiles.append(profile)
        plan_path.write_bytes(b"placeholder plan")
        return plan_path

    monkeypatch.setattr(export_tensorrt, "gpu_present", lambda: True)
    monkeypatch.setattr(export_tensorrt, "build_plan", build_plan)
    monkeypatch.setattr(export_onnx, "export_artifacts",
                        lambda _checkpoint, out: shutil.copytree(tokenfd_artifacts.export, out))
    # TokenFD's engine only: the vision profile of the families built on TokenVL is
    # tests/unit/models/test_tensorrt_engine_builder.py's.
    built = build_families(tmp_path, target="gpu", checkpoints={"tokenfd": tokenfd_artifacts.checkpoint},
                           options={"tokenfd": RepositoryOptions(encoder_max_batch_size=8)}, only=("tokenfd",),
                           log=lambda *_: None)
    encoder = parse((built.repository / contract.TOKENFD_ENCODER / "config.pbtxt").read_text())
    (profile,) = profiles
    assert encoder.platform == "tensorrt_plan"
    assert profile.tiles[2] == encoder.max_batch_size == 8


def test_only_builds_the_families_it_names(tmp_path):
    from services.models.build_default import build_families

    with pytest.raises(ValueError, match="a family to build names no registered model family: nofamily"):
        build_families(tmp_path / "bad", only=("nofamily",), log=lambda *_: None)
    assert not (tmp_path / "bad").exists()
    built = build_families(tmp_path / "out", only=("tokenfd",), log=lambda *_: None)
    assert list(built.families) == ["tokenfd"]
