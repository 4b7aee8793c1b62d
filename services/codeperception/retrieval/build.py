"""`make retrieval-index`: the `retrieval` backend's index, built from the data engine's corpus.

    python -m services.codeperception.retrieval.build [--out FILE] [--per-family N] [--seed S]
        [--families a,b,...] [--dpi D] [--workers W] [--sandbox HOST:PORT | --from-corpus DIR]

Sample i of the corpus is the engine's program for (corpus seed S, families, i) -- exactly what
`percept-eval synth --seed S --count N` writes -- and the index holds samples 0 .. N-1, where
N = per-family x the number of families (the engine draws families round-robin, so each family has
`per-family` programs). Each program is rendered by the real sandbox (an in-process pool, or a running
sandbox-runner with --sandbox) at a small dpi (a 32-pixel thumbnail does not need more), and its
descriptor and its code are kept (index.py). The same arguments give the same bytes.

Staged and resumable: every rendered descriptor is appended to FILE.partial as it comes, and a run
that stops (killed, a family's program failing) resumes from there when started again with the same
arguments; the index replaces FILE atomically only when complete, and FILE.partial is then removed.
A family program that does not render stops the build (a bug in that family), naming it.

--from-corpus DIR reads the figures of a corpus that already holds them instead of rendering: the
engine's triplets (services/evaluation/synth/writer.py), e.g. CodePercept-mini's training corpus
(make data-codepercept), so that the index is that corpus. The plan is the corpus's: --per-family
defaults to its size over the families, --dpi must be the one it was rendered at, and a program of the
plan that the corpus lacks (another seed, another count) stops the build as a failed render does.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.common.images import decode_image
from services.common.pools import in_order

from .index import THUMBNAIL_SIDE, Descriptor, Entry, IndexMeta, RetrievalIndex, describe

DEFAULT_PER_FAMILY = 250
DEFAULT_DPI = 50
DEFAULT_WORKERS = 2

# code -> the PNG of its first figure; raises when the program did not render
# (services.codeperception.sample_dataset builds these for an in-process pool or a sandbox server).
RenderFirstFigure = Callable[[str], bytes]


@dataclass(frozen=True)
class BuildPlan:
    corpus_seed: int
    families: tuple[str, ...]
    per_family: int
    dpi: int

    @property
    def count(self) -> int:
        return self.per_family * len(self.families)

    def meta(self) -> IndexMeta:
        return IndexMeta(families=self.families, corpus_seed=self.corpus_seed, count=self.count, dpi=self.dpi)


def corpus_renderer(directory: str | Path) -> tuple[RenderFirstFigure, int]:
    """(the figure of a program the corpus holds, by its code; the corpus's size)."""
    from services.evaluation.synth.writer import read_triplets

    lines = read_triplets(directory)
    figures = {line["code"]: Path(directory) / line["image"] for line in lines}

    def figure(code: str) -> bytes:
        if code not in figures:
            raise RuntimeError(f"the corpus in {directory} does not hold this program")
        return figures[code].read_bytes()

    return figure, len(lines)


def _programs(plan: BuildPlan) -> list:
    from services.evaluation.synth import corpus  # the engine's public plan: program (seed, families, i)

    return list(corpus.programs(plan.corpus_seed, plan.families, range(plan.count)))


# --- FILE.partial: a header line (the plan's meta), then one line per rendered sample ---------

def _partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def _read_partial(path: Path, meta: IndexMeta) -> dict[int, Descriptor]:
    """The descriptors a previous run of the same plan rendered; nothing for another plan's file. A line
    cut short by a kill ends what is read."""
    if not path.is_file():
        return {}
    done: dict[int, Descriptor] = {}
    with open(path, encoding="utf-8") as handle:
        if handle.readline().rstrip("\n") != meta.to_json():
            return {}
        for line in handle:
            try:
                record = json.loads(line)
                thumbnail = np.frombuffer(base64.b64decode(record["thumbnail"], validate=True), dtype=np.uint8)
                done[int(record["index"])] = Descriptor(thumbnail.reshape(THUMBNAIL_SIDE, THUMBNAIL_SIDE).copy(),
                                                        float(record["aspect"]))
            except (ValueError, KeyError, TypeError):
                break
    return done


def _partial_line(index: int, descriptor: Descriptor) -> str:
    return json.dumps({"index": index, "thumbnail": base64.b64encode(descriptor.thumbnail.tobytes()).decode(),
                       "aspect": descriptor.aspect}) + "\n"


class ProgramFailed(RuntimeError):
    """A family program did not render: a bug in that family."""


def build_index(out: Path, plan: BuildPlan, render: RenderFirstFigure, *, workers: int = DEFAULT_WORKERS,
                progress_stream=None) -> RetrievalIndex:
    """Render the plan's programs (resuming FILE.partial), write the index to `out`, return it."""
    from services.evaluation.progress import Progress

    out = Path(out)
    meta = plan.meta()
    programs = _programs(plan)
    partial = _partial_path(out)
    done = _read_partial(partial, meta)
    partial.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "w", encoding="utf-8") as handle:  # rewritten: a cut-off last line goes
        handle.write(meta.to_json() + "\n")
        handle.writelines(_partial_line(index, descriptor) for index, descriptor in sorted(done.items()))

    def descriptor_of(program) -> Descriptor:
        try:
            png = render(program.code)
        except Exception as exc:  # noqa: BLE001 - any way a render fails names the program
            raise ProgramFailed(f"family {program.family!r} sample {program.index} (seed {program.seed}) did not "
                                f"render: {exc}") from exc
        return describe(decode_image(png, on_white=True))

    todo = [program for program in programs if program.index not in done]
    progress = Progress(total=len(programs), done=len(programs) - len(todo), stream=progress_stream)
    try:
        with open(partial, "a", encoding="utf-8") as handle:
            descriptors = in_order(descriptor_of, todo, workers=workers, ahead=2 * workers,
                                   thread_name_prefix="retrieval-render")
            for program, descriptor in zip(todo, descriptors, strict=True):
                handle.write(_partial_line(program.index, descriptor))
                handle.flush()
                done[program.index] = descriptor
                progress.advance(program.family)
    finally:
        progress.close()
    entries = [Entry(family=p.family, seed=p.seed, corpus_index=p.index, code=p.code, descriptor=done[p.index])
               for p in programs]
    index = RetrievalIndex.from_entries(meta, entries)
    index.save(out)
    partial.unlink()
    return index


def main(argv: list[str] | None = None) -> int:
    from services.codeperception import settings
    from services.codeperception.sample_dataset import client_renderer, pool_renderer
    from services.common.settings import host_and_port
    from services.evaluation.synth import families

    parser = argparse.ArgumentParser(prog="python -m services.codeperception.retrieval.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(settings.RETRIEVAL_INDEX.get()),
                        help="the index file (default PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX)")
    parser.add_argument("--per-family", type=int, default=None,
                        help=f"programs of each family (default {DEFAULT_PER_FAMILY}; with --from-corpus, the "
                             "corpus's size over the families)")
    parser.add_argument("--seed", type=int, default=0, help="the engine corpus's seed (default 0)")
    parser.add_argument("--families", default="", help="comma-separated families (default: all)")
    parser.add_argument("--dpi", type=int, default=DEFAULT_DPI, help=f"render resolution (default {DEFAULT_DPI})")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help=f"renders at the same time (default {DEFAULT_WORKERS})")
    renderers = parser.add_mutually_exclusive_group()
    renderers.add_argument("--sandbox", default=None, help="a running sandbox-runner (host:port) instead of an "
                                                           "in-process pool")
    renderers.add_argument("--from-corpus", type=Path, default=None, metavar="DIR",
                           help="read the figures of this rendered corpus (its triplets) instead of rendering")
    args = parser.parse_args(argv)
    try:
        names = families.resolve(args.families)
        per_family = args.per_family or DEFAULT_PER_FAMILY
        if args.from_corpus:
            from_corpus, size = corpus_renderer(args.from_corpus)
            per_family = args.per_family or size // len(names)
        if per_family < 1 or args.dpi < 1 or args.workers < 1:
            raise ValueError("--per-family, --dpi and --workers must be positive")
        if args.sandbox:
            host_and_port(args.sandbox)
        plan = BuildPlan(corpus_seed=args.seed, families=names, per_family=per_family, dpi=args.dpi)
    except (ValueError, FileNotFoundError) as exc:
        print(f"retrieval-index: {exc}", file=sys.stderr)
        return 2
    print(f"retrieval-index: {plan.count} programs ({plan.per_family} of each of {len(plan.families)} families, "
          f"corpus seed {plan.corpus_seed}) at {plan.dpi} dpi -> {args.out}", flush=True)
    try:
        if args.from_corpus:
            index = build_index(args.out, plan, from_corpus, workers=args.workers)
        elif args.sandbox:
            from percept_sandbox.client import SandboxClient

            with SandboxClient(args.sandbox) as client:
                index = build_index(args.out, plan, client_renderer(client, plan.dpi), workers=args.workers)
        else:
            from percept_sandbox.config import SandboxConfig
            from percept_sandbox.pool import SandboxPool

            with SandboxPool(SandboxConfig.from_env(workers=args.workers, queue_size=args.workers * 2)) as pool:
                index = build_index(args.out, plan, pool_renderer(pool, plan.dpi), workers=args.workers)
    except ProgramFailed as exc:
        print(f"retrieval-index: {exc}\nthe rendered part is kept in {_partial_path(args.out)}; "
              "run again to resume", file=sys.stderr)
        return 1
    print(f"retrieval-index: wrote {args.out} ({index.size} programs, {args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
