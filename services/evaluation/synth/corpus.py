"""The corpus plan: which program sample i of a corpus is, from (corpus seed, families, i) alone.

Sample i belongs to family `families[i % len(families)]` and is written from
`random.Random(sample_seed(seed, family, i))`, so any shard or a resumed run writes the
same program for the same i without drawing the samples before it.
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .families import FAMILIES


@dataclass(frozen=True)
class Program:
    index: int
    family: str
    seed: int
    code: str

    @property
    def name(self) -> str:
        """The sample's file stem: its index first, so a directory listing is in corpus order."""
        return f"synth-{self.index:07d}-{self.family}"


def sample_seed(corpus_seed: int, family: str, index: int) -> int:
    """A 64-bit seed from (corpus seed, family, index); stable across Python versions (no hash())."""
    digest = hashlib.sha256(f"{corpus_seed}/{family}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def program(corpus_seed: int, families: Sequence[str], index: int) -> Program:
    family = families[index % len(families)]
    seed = sample_seed(corpus_seed, family, index)
    return Program(index=index, family=family, seed=seed, code=FAMILIES[family](random.Random(seed)))


def programs(corpus_seed: int, families: Sequence[str], indices: Iterable[int]) -> Iterator[Program]:
    for index in indices:
        yield program(corpus_seed, families, index)
