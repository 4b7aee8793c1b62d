"""The corpus plan without rendering: which program sample i is depends on (seed, families, i) alone."""
from __future__ import annotations

import hashlib
import random

import pytest

from services.evaluation.shards import Shard
from services.evaluation.synth import corpus, families


def test_a_sample_seed_is_the_documented_hash():
    """Pinned, so a corpus stays reproducible across releases (docs/data-engine.md, "Determinism")."""
    expected = int.from_bytes(hashlib.sha256(b"0/circuit/7").digest()[:8], "big")
    assert corpus.sample_seed(0, "circuit", 7) == expected == 8334323799724255391


def test_sample_i_is_the_same_alone_in_a_shard_or_in_the_whole_corpus():
    names = families.resolve(None)
    whole = list(corpus.programs(5, names, range(40)))
    shard = Shard(2, 3)
    assert list(corpus.programs(5, names, shard.indices(40))) == [p for p in whole if shard.owns(p.index)]
    assert corpus.program(5, names, 31) == whole[31]
    assert [p.family for p in whole[:len(names)]] == list(names)  # round-robin


def test_seeds_families_and_indices_each_change_the_program():
    names = families.resolve(None)
    base = corpus.program(1, names, 0)
    assert corpus.program(2, names, 0).code != base.code
    assert corpus.program(1, names, len(names)).code != base.code  # same family, next round
    assert corpus.program(1, ("circuit",), 0).family == "circuit"


def test_families_resolve_in_registry_order_and_refuse_unknown_names():
    assert families.resolve("") == tuple(families.FAMILIES) == families.resolve(None)
    assert families.resolve("circuit, bar_chart") == ("bar_chart", "circuit")
    with pytest.raises(ValueError, match="unknown families sudoku"):
        families.resolve(["circuit", "sudoku"])


def test_every_family_writes_a_program_that_compiles_for_many_seeds():
    for name, write in families.FAMILIES.items():
        for seed in range(50):
            compile(write(random.Random(seed)), f"{name}-{seed}", "exec")


def test_file_names_sort_in_corpus_order():
    names = [corpus.program(0, families.resolve(None), i).name for i in (9, 10, 100)]
    assert names == sorted(names) and names[0] == "synth-0000009-solid_3d"
