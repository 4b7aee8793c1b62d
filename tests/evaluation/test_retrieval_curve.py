"""retrieval-curve's index densities: the first N programs of each family, as a smaller build would hold."""
from __future__ import annotations

import numpy as np
import pytest

from services.codeperception.retrieval.index import Descriptor, Entry, IndexMeta, RetrievalIndex
from services.evaluation.codepercept.retrieval_curve import subset, table

FAMILIES = ("bar", "pie", "venn")


def _index(tmp_path, per_family: int):
    """Corpus samples 0 .. N-1, the families drawn round-robin as the engine does."""
    entries = [Entry(FAMILIES[i % 3], 1000 + i, i, f"program {i}\n",
                     Descriptor(np.full((32, 32), i, np.uint8), 1.0 + i / 100)) for i in range(per_family * 3)]
    path = tmp_path / "index.npz"
    RetrievalIndex.from_entries(IndexMeta(FAMILIES, corpus_seed=0, count=len(entries), dpi=50), entries).save(path)
    return path


def test_a_density_keeps_the_first_programs_of_each_family_whole(tmp_path):
    smaller = RetrievalIndex.load(subset(RetrievalIndex.load(_index(tmp_path, 4)), 2, tmp_path / "two.npz"))
    assert smaller.size == 6 and smaller.meta.count == 6
    assert [smaller.program(i) for i in range(6)] == [f"program {i}\n" for i in range(6)]
    assert smaller.seeds.tolist() == [1000 + i for i in range(6)]
    assert sorted(smaller.meta.families[f] for f in smaller.families) == sorted(FAMILIES * 2)
    assert smaller.thumbnails[5].max() == 5 and smaller.aspects[5] == pytest.approx(1.05)


def test_a_density_the_index_does_not_hold_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds corpus samples 0 .. 11, not 15"):
        subset(RetrievalIndex.load(_index(tmp_path, 4)), 5, tmp_path / "five.npz")
    with pytest.raises(ValueError, match="holds corpus samples 0 .. 11, not 13"):
        RetrievalIndex.load(_index(tmp_path, 4)).first_samples(13)


def test_the_table_has_a_row_per_density_and_a_column_per_k():
    rows = [{"per_family": n, "k": k, "fidelity": n / 1000 + k / 100} for n in (50, 100) for k in (1, 4)]
    text = table({"figures": 88, "engine_seed": 1, "dpi": 100, "rows": rows})
    assert "| 50 | 0.060 | 0.090 |" in text and "| 100 | 0.110 | 0.140 |" in text
    assert "best of 1 | best of 4" in text
