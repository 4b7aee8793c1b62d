"""TokenFD-mini as the served default: `make publish-tokenfd` checks a trained checkpoint and copies it
to models/tokenfd-mini (that `make models` then builds from it: tests/unit/models/test_make_models_defaults.py).

The checkpoint published here is the tiny seeded one with a record beside it: publishing checks
files, record, loader and size, never quality."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from services.models.tokenfd.checkpoint import RECORD_FILE, CheckpointError, load_config
from services.models.tokenfd.mini import publish


@pytest.fixture()
def trained(tokenfd_artifacts, tmp_path) -> Path:
    """A checkpoint as make train-tokenfd leaves it (<out>/checkpoint), recording a threshold."""
    checkpoint = shutil.copytree(tokenfd_artifacts.checkpoint, tmp_path / "out" / "checkpoint")
    (checkpoint / RECORD_FILE).write_text(json.dumps({"threshold": 0.4, "steps": 3}))
    (checkpoint / "notes.txt").write_text("not part of the checkpoint")
    return checkpoint


def test_publish_copies_the_checked_checkpoint(trained, tmp_path, capsys):
    dest = tmp_path / "models" / "tokenfd-mini"
    dest.mkdir(parents=True)
    (dest / "stale.safetensors").write_text("an earlier publish's leftover")
    assert publish.main([str(trained), str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == sorted(publish.FILES)
    for name in publish.FILES:
        assert (dest / name).read_bytes() == (trained / name).read_bytes()
    assert not dest.with_name("tokenfd-mini.partial").exists()
    # no name recorded: the served name is the directory's, the one `make models` serves from
    assert load_config(dest).name == "tokenfd-mini"
    out = capsys.readouterr().out
    assert "published tokenfd-mini" in out and "threshold 0.4" in out


def test_publish_refuses_a_checkpoint_recording_no_threshold(trained, tmp_path):
    (trained / RECORD_FILE).write_text(json.dumps({"steps": 3}))
    with pytest.raises(CheckpointError, match="records no threshold"):
        publish.publish(trained, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_publish_refuses_a_checkpoint_over_the_size_bound(trained, tmp_path):
    size = sum((trained / name).stat().st_size for name in publish.FILES)
    publish.check(trained, max_bytes=size)
    with pytest.raises(CheckpointError, match="MB"):
        publish.publish(trained, tmp_path / "dest", max_bytes=size - 1)
    assert publish.MAX_BYTES == 25_000_000


def test_publish_refuses_missing_files_and_weights_the_loader_refuses(trained, tmp_path, capsys):
    broken = shutil.copytree(trained, tmp_path / "broken")
    (broken / "tokenizer.model").unlink()
    assert publish.main([str(broken), str(tmp_path / "dest")]) == 2
    assert "lacks tokenizer.model" in capsys.readouterr().err
    from safetensors.numpy import load_file, save_file

    weights = load_file(trained / "model.safetensors")
    name = next(n for n in weights if n.startswith("ocr_mlp"))
    weights[name] = weights[name][:1]
    save_file(weights, str(trained / "model.safetensors"))
    with pytest.raises(CheckpointError, match=name):
        publish.check(trained)
    assert not (tmp_path / "dest").exists()
