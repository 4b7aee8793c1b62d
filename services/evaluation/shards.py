"""One shard of a split: which samples a worker owns.

The harness (`percept-eval run --shard i/n`) and the synthetic data engine shard the
same way, by sample index modulo the shard count, so shard i of n always holds the
same samples whatever else runs. On Kubernetes an Indexed Job gives each pod its
index in `JOB_COMPLETION_INDEX`; the count travels in `PERCEPT_EVAL_SHARD_COUNT`
(the Job builder sets it to the Job's completions).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence, TypeVar

T = TypeVar("T")

# Set by Kubernetes on every pod of an Indexed Job.
INDEX_ENV = "JOB_COMPLETION_INDEX"
# Set by the Job builder (services/evaluation/k8s_job.py) to the Job's completions.
COUNT_ENV = "PERCEPT_EVAL_SHARD_COUNT"


class ShardError(ValueError):
    """A shard specification that names no valid shard."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or isinstance(self.count, bool):
            raise ShardError("shard index and count must be integers")
        if self.count < 1:
            raise ShardError(f"shard count must be 1 or more, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ShardError(f"shard index must be in 0..{self.count - 1}, got {self.index}")

    @classmethod
    def whole(cls) -> "Shard":
        """The one shard that owns every sample."""
        return cls(0, 1)

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """`"i/n"` -> Shard(i, n), e.g. `"0/4"` is the first of four shards."""
        index, sep, count = str(text).strip().partition("/")
        if not sep:
            raise ShardError(f"shard must look like i/n (e.g. 0/4), got {text!r}")
        try:
            return cls(int(index), int(count))
        except ValueError as exc:
            if isinstance(exc, ShardError):
                raise
            raise ShardError(f"shard must look like i/n with integers, got {text!r}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Shard | None":
        """The shard of this Indexed Job pod, or None outside one (no JOB_COMPLETION_INDEX)."""
        environ = os.environ if environ is None else environ
        raw_index = environ.get(INDEX_ENV, "")
        if raw_index == "":
            return None
        raw_count = environ.get(COUNT_ENV, "")
        if raw_count == "":
            raise ShardError(f"{INDEX_ENV} is set but {COUNT_ENV} is not; cannot tell the shard count")
        return cls.parse(f"{raw_index}/{raw_count}")

    def owns(self, sample_index: int) -> bool:
        return sample_index % self.count == self.index

    def select(self, items: Iterable[T]) -> list[T]:
        """The items this shard owns, by their position in `items`."""
        return [item for position, item in enumerate(items) if self.owns(position)]

    def indices(self, total: int) -> range:
        """Sample indices in 0..total-1 this shard owns, in order."""
        return range(self.index, total, self.count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def check_partition(shards: Sequence[Shard]) -> None:
    """Raise ShardError unless `shards` are exactly the shards 0..n-1 of one count n."""
    if not shards:
        raise ShardError("no shards given")
    counts = sorted({shard.count for shard in shards})
    if len(counts) > 1:
        raise ShardError(f"shards come from different shard counts: {', '.join(map(str, counts))}")
    count = counts[0]
    seen: dict[int, int] = {}
    for shard in shards:
        seen[shard.index] = seen.get(shard.index, 0) + 1
    overlapping = sorted(index for index, times in seen.items() if times > 1)
    missing = sorted(set(range(count)) - set(seen))
    problems = []
    if overlapping:
        problems.append("overlapping shards " + ", ".join(f"{i}/{count}" for i in overlapping))
    if missing:
        problems.append("missing shards " + ", ".join(f"{i}/{count}" for i in missing))
    if problems:
        raise ShardError("; ".join(problems))
