"""One data-engine run: plan the shard's programs, render them, write triplets and/or a split."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.evaluation.progress import Progress
from services.evaluation.shards import Shard

from . import corpus, writer
from .render import Triplet, TripletRenderer, render_all


@dataclass(frozen=True)
class Plan:
    count: int  # samples in the whole corpus, every shard together
    seed: int
    families: tuple[str, ...]
    shard: Shard

    def indices(self) -> range:
        return self.shard.indices(self.count)


def generate(plan: Plan, renderer: TripletRenderer, *, out: Path | None = None, split: Path | None = None,
             concurrency: int = 2, progress_stream=None,
             on_triplet: Callable[[Triplet], None] | None = None) -> list[Path]:
    """Write this shard of the corpus; returns the JSONL files written. Nothing is left on failure.

    `on_triplet` sees every triplet (with its parsed trace, which the files do not keep) in order."""
    if out is None and split is None:
        raise ValueError("nothing to write: give an output directory for triplets, a split, or both")
    outputs = []
    try:
        if out is not None:
            outputs.append(writer.StagedOutput(out, writer.TRIPLETS, plan.shard, writer.triplet_line))
        if split is not None:
            outputs.append(writer.StagedOutput(split, writer.SPLIT, plan.shard, writer.split_line))
        indices = plan.indices()
        progress = Progress(total=len(indices), stream=progress_stream)
        try:
            programs = corpus.programs(plan.seed, plan.families, indices)
            for triplet in render_all(renderer, programs, concurrency=concurrency):
                for output in outputs:
                    output.add(triplet)
                if on_triplet is not None:
                    on_triplet(triplet)
                progress.advance("ok")
        finally:
            progress.close()
    except BaseException:
        for output in outputs:
            output.discard()
        raise
    return [output.commit() for output in outputs]
