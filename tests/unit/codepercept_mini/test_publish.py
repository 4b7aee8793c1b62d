"""`make publish-codepercept`: a trained checkpoint (here the recipe's, 1 step: plumbing, not a model) and a
retrieval index are checked and copied to where `make models` serves them from; a checkpoint without its
record's steps, a damaged index or more than the bound on committed bytes are refused with nothing copied.
Publishing checks files, loader and size, never quality."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from services.codeperception.retrieval.index import Entry, IndexMeta, IndexUnusable, RetrievalIndex, describe
from services.models.codepercept import publish
from services.models.codepercept.checkpoint import FILES, RECORD_FILE
from services.models.codepercept.config import Recipe
from services.models.codepercept.train import Trainer
from services.models.tokenvl.config import CheckpointError
from tests.unit.codepercept_mini.conftest import tiny_sizes

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def trained(corpora, tmp_path_factory):
    train, heldout = corpora
    recipe = dataclasses.replace(Recipe(), steps=1, batch=1, threads=1, eval_every=1, eval_samples=1,
                                 decode_samples=1, warmup=1)
    out = tmp_path_factory.mktemp("publish") / "run"
    return Trainer(train, heldout, out, recipe, sizes=tiny_sizes, log=lambda *_: None).run(progress=False)


@pytest.fixture()
def index(tmp_path):
    image = Image.new("RGB", (64, 48), "white")
    meta = IndexMeta(families=("bar_chart",), corpus_seed=0, count=1, dpi=50)
    entry = Entry(family="bar_chart", seed=7, corpus_index=0, code="import matplotlib\n", descriptor=describe(image))
    return RetrievalIndex.from_entries(meta, [entry]).save(tmp_path / "index.npz")


def test_publish_copies_the_checked_checkpoint_and_its_index(trained, index, tmp_path, capsys):
    dest = tmp_path / "models" / "codepercept-mini"
    dest.mkdir(parents=True)
    (dest / "stale.bin").write_text("an earlier publish's leftover")
    (trained / "notes.txt").write_text("not part of the checkpoint")
    assert publish.main([str(trained), str(dest), "--index", str(index)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == sorted((*FILES, publish.INDEX_FILE))
    for name in FILES:
        assert (dest / name).read_bytes() == (trained / name).read_bytes()
    assert (dest / publish.INDEX_FILE).read_bytes() == index.read_bytes()
    assert not dest.with_name("codepercept-mini.partial").exists()
    out = capsys.readouterr().out
    assert "published codepercept-tiny (1 steps, with a retrieval index of 1 programs" in out


def test_publish_without_an_index_copies_the_checkpoint_alone(trained, tmp_path):
    done = publish.publish(trained, tmp_path / "dest")
    assert done.index_programs is None and sorted(p.name for p in done.directory.iterdir()) == sorted(FILES)


def test_a_record_without_steps_is_refused(trained, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in FILES:
        (broken / name).write_bytes((trained / name).read_bytes())
    record = json.loads((broken / RECORD_FILE).read_text())
    del record["steps"]
    (broken / RECORD_FILE).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="steps"):
        publish.publish(broken, tmp_path / "dest")
    (broken / FILES[1]).unlink()
    with pytest.raises(FileNotFoundError, match="lacks model.safetensors"):
        publish.publish(broken, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_the_bound_counts_the_checkpoint_and_the_index_together(trained, index, tmp_path):
    checkpoint_bytes = sum((trained / name).stat().st_size for name in FILES)
    assert publish.check(trained, index).size_bytes == checkpoint_bytes + index.stat().st_size
    with pytest.raises(CheckpointError, match="together"):
        publish.publish(trained, tmp_path / "dest", index, max_bytes=checkpoint_bytes + 1)
    with pytest.raises(CheckpointError, match="MB"):
        publish.publish(trained, tmp_path / "dest", max_bytes=checkpoint_bytes - 1)
    assert not (tmp_path / "dest").exists() and publish.MAX_BYTES == 40_000_000


def test_a_damaged_index_is_refused(trained, tmp_path):
    damaged = tmp_path / "index.npz"
    damaged.write_bytes(np.zeros(16, dtype=np.uint8).tobytes())
    with pytest.raises(IndexUnusable):
        publish.publish(trained, tmp_path / "dest", damaged)
    assert publish.main([str(trained), str(tmp_path / "dest"), "--index", str(damaged)]) == 2
    assert not (tmp_path / "dest").exists()
