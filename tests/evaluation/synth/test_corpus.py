"""A generated corpus through the real sandbox server: the same seed gives the same bytes,
the split is a STEM2Code-Eval dataset whose ground truth re-renders to its images, and
shards merge into the unsharded corpus."""
from __future__ import annotations

import filecmp
import json

import pytest
from PIL import Image

from services.codeperception.dataset import DatasetIndex, pixel_hash, read_samples
from services.evaluation.shards import Shard, ShardError
from services.evaluation.synth import families, writer
from services.evaluation.synth.engine import generate

from .conftest import COUNT, plan

SHARDS = 3


def same_tree(left, right) -> bool:
    """Same file names and the same bytes, recursively."""
    comparison = filecmp.dircmp(left, right)
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
    return not mismatch and not errors and all(
        same_tree(left / name, right / name) for name in comparison.common_dirs)


def test_the_same_seed_gives_the_same_bytes(renderer, corpus, tmp_path):
    generate(plan(), renderer, out=tmp_path / "triplets", split=tmp_path / "split", concurrency=1)
    assert same_tree(corpus.triplets, tmp_path / "triplets")
    assert same_tree(corpus.split, tmp_path / "split")


def test_another_seed_gives_other_programs(renderer, corpus, tmp_path):
    small = 3
    generate(plan(count=small, seed=12), renderer, out=tmp_path, concurrency=2)
    ours = (tmp_path / "triplets.jsonl").read_text().splitlines()
    theirs = (corpus.triplets / "triplets.jsonl").read_text().splitlines()[:small]
    assert all(json.loads(a)["code"] != json.loads(b)["code"] for a, b in zip(ours, theirs, strict=True))


def test_triplets_hold_code_image_and_caption_in_corpus_order(corpus):
    lines = [json.loads(line) for line in (corpus.triplets / "triplets.jsonl").read_text().splitlines()]
    assert [line["index"] for line in lines] == list(range(COUNT))
    for line in lines:
        assert set(line) == {"index", "family", "seed", "image", "code", "caption"}
        assert (corpus.triplets / line["image"]).is_file()
        assert line["caption"].startswith("1 figure")
    assert sorted(p.name for p in (corpus.triplets / "images").iterdir()) == \
        sorted(line["image"].removeprefix("images/") for line in lines)
    assert not [p for p in corpus.triplets.iterdir() if p.name.startswith(".")]  # no staging left


def test_the_split_is_a_stem2code_dataset_whose_code_renders_its_images(renderer, corpus):
    samples = read_samples(corpus.split / "data.jsonl", corpus.split / "images")
    assert [s.index for s in samples] == list(range(COUNT))
    triplets = [json.loads(line) for line in (corpus.triplets / "triplets.jsonl").read_text().splitlines()]
    assert [s.code for s in samples] == [t["code"] for t in triplets]
    index = DatasetIndex.load(corpus.split)
    assert index.size == COUNT
    for sample in samples[:len(families.FAMILIES)]:  # one sample of every family
        response = renderer.client.render(sample.code, dpi=renderer.dpi, retries=50, omit_trace=True)
        rendered = response.figures[0].data
        assert rendered == sample.image_path.read_bytes(), sample.image_path.name
        with Image.open(sample.image_path) as image:
            assert index.find(image) == sample and pixel_hash(image)


def test_shards_merge_into_the_unsharded_corpus(renderer, corpus, tmp_path):
    """Triplet shards share one directory; split shards each write their own, as the Indexed Job's pods do."""
    shard_dirs = [tmp_path / f"shard-{index}" for index in range(SHARDS)]
    for index, shard_dir in enumerate(shard_dirs):
        generate(plan(shard=Shard(index, SHARDS)), renderer, out=tmp_path / "triplets", split=shard_dir,
                 concurrency=2)
        assert [p.name for p in shard_dir.glob("*.jsonl")] == [f"data.shard-{index:05d}-of-{SHARDS:05d}.jsonl"]
    writer.merge(tmp_path / "triplets", writer.TRIPLETS)
    writer.merge(tmp_path / "split", writer.SPLIT, sources=shard_dirs)
    for shard_file in (tmp_path / "triplets").glob("*.shard-*.jsonl"):
        shard_file.unlink()
    assert same_tree(corpus.triplets, tmp_path / "triplets")
    assert same_tree(corpus.split, tmp_path / "split")


def test_merge_refuses_missing_and_mixed_shards(corpus, tmp_path):
    lines = (corpus.triplets / "triplets.jsonl").read_text().splitlines(keepends=True)
    for index in (0, 2):
        (tmp_path / f"triplets.shard-{index:05d}-of-00003.jsonl").write_text("".join(lines[index::3]))
    with pytest.raises(ShardError, match="missing shards 1/3"):
        writer.merge(tmp_path, writer.TRIPLETS)
    (tmp_path / "triplets.shard-00001-of-00003.jsonl").write_text("".join(lines[1::3]))
    (tmp_path / "triplets.shard-00001-of-00002.jsonl").write_text("".join(lines[1::2]))
    with pytest.raises(ShardError, match="different shard counts"):
        writer.merge(tmp_path, writer.TRIPLETS)
    (tmp_path / "triplets.shard-00001-of-00002.jsonl").unlink()
    with pytest.raises(ShardError, match="overlapping shards 0/3, 1/3, 2/3"):
        writer.merge(tmp_path / "merged", writer.TRIPLETS, sources=[tmp_path, tmp_path])
    (tmp_path / "triplets.shard-00000-of-00003.jsonl").write_text("".join(lines[0::3][:-1]))  # unfinished
    with pytest.raises(ShardError, match="unfinished or foreign"):
        writer.merge(tmp_path, writer.TRIPLETS)
    (tmp_path / "triplets.shard-00000-of-00003.jsonl").write_text("".join(lines[0::3][::-1]))  # out of order
    with pytest.raises(ShardError, match="different corpora or runs"):
        writer.merge(tmp_path, writer.TRIPLETS)
    assert not (tmp_path / "triplets.jsonl").exists() and not (tmp_path / "merged").exists()
