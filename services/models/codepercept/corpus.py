"""CodePercept-mini's corpus: the STEM data engine's programs (services/evaluation/synth), each
rendered by the real sandbox with its execution trace and captioned from that trace by the
code-perception caption builder -- the engine's own triplets, written by the engine's writer:

    DIR/triplets.jsonl       index, family, seed, image, code, caption (one line per sample)
    DIR/images/<stem>.png    the program's figure
    DIR/tokenizer.json       the code tokenizer (tokenizer.py; training corpus only)

The engine's CLI (`percept-eval synth`) renders through a running sandbox-runner; this one renders
through an in-process sandbox pool (the server's jail, no server), as the retrieval index's build does,
so `make data-codepercept` needs nothing running. Captions need the trace, so they are made here, once,
and the trainer reads them from triplets.jsonl.

    python -m services.models.codepercept.corpus --out DIR --count N --seed S [--shard i/n] [--dpi D]
    python -m services.models.codepercept.corpus --out DIR --merge

Sample i is the engine's program (seed S, all families, i): the training corpus and the held-out
one differ by seed. Shards render into the same DIR side by side; --merge joins them (the bytes of
an unsharded run).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DPI = 100           # a 6.4-inch figure is 640 pixels wide: above the 448 tile it is resized to


@dataclass(frozen=True)
class Sample:
    index: int
    family: str
    image: Path
    code: str
    caption: str


def read_samples(directory: str | Path) -> list[Sample]:
    from services.evaluation.synth.writer import read_triplets

    directory = Path(directory)
    return [Sample(int(line["index"]), line["family"], directory / line["image"], line["code"], line["caption"])
            for line in read_triplets(directory)]


class PoolTripletRenderer:
    """The engine's TripletRenderer (render.py) over an in-process sandbox pool instead of a server."""

    def __init__(self, pool, *, dpi: int) -> None:
        self.pool, self.dpi = pool, dpi

    def triplet(self, program):
        from percept_sandbox.render.results import RenderOptions, Status
        from services.evaluation.synth.render import STDERR_SHOWN, triplet_of

        result = self.pool.render(program.code, RenderOptions(dpi=self.dpi, trace=True))
        return triplet_of(program, ok=result.status is Status.OK, figures=[f.data for f in result.figures],
                          trace_json=result.trace_json,
                          answer=f"{result.status.value}, {result.detail}\n{result.stderr_tail[-STDERR_SHOWN:]}")


def generate(out: Path, *, count: int, seed: int, shard, dpi: int = DEFAULT_DPI, workers: int = 1,
             families: tuple[str, ...] | None = None, progress_stream=None) -> list[Path]:
    """Render this shard of the corpus into `out` (the engine's writer: staged, nothing left on failure)."""
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.pool import SandboxPool
    from services.evaluation.synth import families as engine_families
    from services.evaluation.synth.engine import Plan
    from services.evaluation.synth.engine import generate as engine_generate

    plan = Plan(count=count, seed=seed, families=families or engine_families.resolve(""), shard=shard)
    with SandboxPool(SandboxConfig.from_env(workers=workers, queue_size=2 * workers)) as pool:
        return engine_generate(plan, PoolTripletRenderer(pool, dpi=dpi), out=out, concurrency=workers,
                               progress_stream=progress_stream)


def main(argv: list[str] | None = None) -> int:
    from services.evaluation.shards import Shard, ShardError
    from services.evaluation.synth import writer
    from services.evaluation.synth.render import RenderFailed

    parser = argparse.ArgumentParser(prog="python -m services.models.codepercept.corpus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=100, help="samples in the whole corpus (all shards)")
    parser.add_argument("--seed", type=int, default=0, help="the engine corpus's seed")
    parser.add_argument("--shard", default=None, help="i/n: this shard only")
    parser.add_argument("--dpi", type=int, default=DEFAULT_DPI)
    parser.add_argument("--merge", action="store_true", help="join the shard files in --out")
    args = parser.parse_args(argv)
    try:
        if args.merge:
            print(f"merged: {writer.merge(args.out, writer.TRIPLETS)}")
            return 0
        if args.count < 1 or args.dpi < 1:
            raise ValueError("--count and --dpi must be positive")
        shard = Shard.parse(args.shard) if args.shard else Shard.whole()
        for path in generate(args.out, count=args.count, seed=args.seed, shard=shard, dpi=args.dpi):
            print(f"wrote {path}")
    except (ValueError, ShardError) as error:
        print(f"codepercept corpus: {error}", file=sys.stderr)
        return 2
    except RenderFailed as error:
        print(f"codepercept corpus: {error}\nnothing was written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
