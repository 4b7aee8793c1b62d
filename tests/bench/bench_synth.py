"""Synthetic data engine throughput: triplets per minute through the sandbox-runner, against a
fresh python subprocess per program.

Real processes, started here: a `percept-sandbox serve` (2 workers, queue 16). Each repeat
generates the same corpus (2 samples of every family, seed 0, 300 dpi) both ways, the order
flipping every repeat so load falls on both alike:

  engine    `services.evaluation.synth.engine.generate`: render with the execution trace through the
            sandbox's warm zygote (one jailed child per program), caption from the trace, and write the
            split (JSONL + PNGs), RENDER_CONCURRENCY renders in flight;
  baseline  the pattern of a script that shells out: `python -c <program + plt.savefig(path, dpi=300)>`
            per program (upstream's save injection, services/evaluation/protocol.py), no trace, no
            caption, no jail, RENDER_CONCURRENCY subprocesses at a time.

The baseline does less work per sample (no trace, no caption, no isolation), so the ratio
understates the engine's advantage per unit of work. Ratio = engine samples/min / baseline
samples/min, one value per repeat; the report shows the median with its min-max
(tests/bench/stats.py).

Run: `python -m tests.bench.bench_synth [--repeats K] [--write-docs]` (about two minutes on a quiet
2-core machine with the defaults). It prints a markdown table; with --write-docs it also writes
docs/img/bench_synth.png and writes (or replaces) the "Synthetic data engine" section of
docs/benchmarks.md.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from services.evaluation.protocol import DPI, inject_save
from services.evaluation.shards import Shard
from services.evaluation.synth import corpus, families
from services.evaluation.synth.engine import Plan, generate
from services.evaluation.synth.render import TripletRenderer
from tests.bench.cli import bench_parser, measured_on, parse_checked
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import replace_block, summarize
from tests.sandbox.harness import SandboxServer

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "benchmarks.md"
PLOT = REPO / "docs" / "img" / "bench_synth.png"
MARK_START, MARK_END = "<!-- bench-synth:start -->", "<!-- bench-synth:end -->"
SECTION_TITLE = "## Synthetic data engine"
COMMAND = ".venv/bin/python -m tests.bench.bench_synth --write-docs"
SANDBOX_WORKERS = 2
SANDBOX_QUEUE = 16
RENDER_CONCURRENCY = 2
SAMPLES_PER_FAMILY = 2
SEED = 0
SUBPROCESS_TIMEOUT_S = 60.0


@dataclass
class Repeat:
    engine_per_min: float
    baseline_per_min: float

    @property
    def ratio(self) -> float:
        return self.engine_per_min / self.baseline_per_min


def corpus_plan() -> Plan:
    names = families.resolve(None)
    return Plan(count=SAMPLES_PER_FAMILY * len(names), seed=SEED, families=names, shard=Shard.whole())


def run_engine(renderer: TripletRenderer, plan: Plan) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch, open(os.devnull, "w") as quiet:
        started = time.perf_counter()
        generate(plan, renderer, split=Path(scratch), concurrency=RENDER_CONCURRENCY, progress_stream=quiet)
        return plan.count / (time.perf_counter() - started) * 60


def _subprocess_render(code: str, out_path: str) -> None:
    environment = dict(os.environ, MPLBACKEND="Agg")
    finished = subprocess.run([sys.executable, "-c", inject_save(code, out_path, DPI)], env=environment,
                              capture_output=True, timeout=SUBPROCESS_TIMEOUT_S)
    if finished.returncode != 0 or not os.path.getsize(out_path):
        raise RuntimeError(f"baseline render failed: {finished.stderr.decode(errors='replace')[-500:]}")


def run_baseline(plan: Plan) -> float:
    codes = [p.code for p in corpus.programs(plan.seed, plan.families, plan.indices())]
    with tempfile.TemporaryDirectory(prefix="bench-synth-baseline-") as scratch:
        paths = [str(Path(scratch) / f"{i}.png") for i in range(len(codes))]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=RENDER_CONCURRENCY) as pool:
            list(pool.map(_subprocess_render, codes, paths))
        return len(codes) / (time.perf_counter() - started) * 60


def run(repeats: int) -> list[Repeat]:
    plan = corpus_plan()
    results = []
    with SandboxServer(workers=SANDBOX_WORKERS, queue_size=SANDBOX_QUEUE) as server, \
            TripletRenderer(server.target, dpi=DPI, timeout_s=SUBPROCESS_TIMEOUT_S) as renderer:
        run_engine(renderer, plan)  # warm-up: the pool's first children, the OS file cache
        for index in range(repeats):
            if index % 2 == 0:
                engine, baseline = run_engine(renderer, plan), run_baseline(plan)
            else:
                baseline, engine = run_baseline(plan), run_engine(renderer, plan)
            results.append(Repeat(engine_per_min=engine, baseline_per_min=baseline))
            print(f"repeat {index + 1}/{repeats}: engine {engine:.0f}/min, baseline {baseline:.0f}/min, "
                  f"{results[-1].ratio:.2f}x", file=sys.stderr, flush=True)
    return results


def markdown(results: list[Repeat], count: int) -> str:
    engine = summarize(r.engine_per_min for r in results)
    baseline = summarize(r.baseline_per_min for r in results)
    ratio = summarize(r.ratio for r in results)
    return "\n".join([
        "| path | samples per minute, median of repeats (min–max) |", "|---|---|",
        f"| engine: sandbox render + trace + caption + split written | {engine.format('', 0)} |",
        f"| baseline: fresh `python -c` per program with the injected save | {baseline.format('', 0)} |",
        "",
        "| ratio | median (min–max) over repeats |", "|---|---|",
        f"| engine / baseline throughput | {ratio.format('x')} |",
        "",
        f"Settings: sandbox {SANDBOX_WORKERS} workers, queue {SANDBOX_QUEUE}; {RENDER_CONCURRENCY} renders in "
        f"flight on both sides; {count} programs ({SAMPLES_PER_FAMILY} of each of the "
        f"{len(families.FAMILIES)} families, seed {SEED}) at {DPI} dpi; the baseline makes no trace or caption.",
        "",
        f"{measured_on()}; {len(results)} repeats. Reproduce: `{COMMAND}`."])


def plot(results: list[Repeat], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = ["baseline\n(python per program)", "engine\n(sandbox + caption)"]
    medians, errors = median_bars(summarize(values) for values in (
        [r.baseline_per_min for r in results], [r.engine_per_min for r in results]))
    ax.bar(names, medians, yerr=errors, capsize=6, color=["#8c8c8c", "#4c72b0"])
    ax.set_ylabel("samples per minute (median of repeats)")
    ax.set_title(f"Synthetic data engine, {DPI} dpi, {os.cpu_count()} cores")
    save(fig, path)


def write_section(text: str, table: str) -> str:
    """Replace the results block, or append the section when the document has none yet."""
    if MARK_START in text and MARK_END in text:
        return replace_block(text, MARK_START, MARK_END, table)
    section = (f"\n{SECTION_TITLE}\n\n{__doc__.split(chr(10) * 2)[0]}\n\n"
               f"![engine against a python subprocess per program](img/{PLOT.name})\n\n"
               f"{MARK_START}\n{table}\n{MARK_END}\n")
    return text.rstrip("\n") + "\n" + section


def main(argv: list[str] | None = None) -> int:
    args = parse_checked(bench_parser(__doc__, repeats_help="times both paths run", docs_flag="--write-docs"), argv)
    results = run(args.repeats)
    table = markdown(results, corpus_plan().count)
    print(table)
    if args.write_docs:
        plot(results, PLOT)
        DOCS.write_text(write_section(DOCS.read_text(), table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
