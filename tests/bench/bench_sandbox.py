"""Sandbox render latency: the jail against rendering in-process and a process per render.

Renders the 20 STEM-style programs of tests/sandbox/corpus (varied complexity: line
plots to 3D surfaces, contour maps, ODE solutions, pandas tables) four ways, and takes
every ratio against baselines measured in the same run:

  (a) the in-process floor: this process, warmed up exactly as the zygote is, runs each
      program through the same render sequence a jailed child runs
      (percept_sandbox.render.sequence.render), with the children's environment (one BLAS
      thread, Agg, the same rcParams); what a child skips is skipped here too, and what the
      child never does (restoring matplotlib, plt.close, garbage collection) happens
      outside the timed part;
  (b) a fresh `python` per render, as the STEM2Code-Eval and ChartMimic harnesses run code:
      interpreter start, imports, the same render, exit;
  (c) the sandbox through the `percept-sandbox render` code path (cli.render_file on a
      started pool: CLI start-up excluded), images written to disk as the CLI does;
  (d) the sandbox over gRPC (a real `percept-sandbox serve` process) at concurrency 1 and
      4, for latency and throughput.

Fairness. (a) and (c) alternate program by program inside one pause of the pool's
pre-forking (SandboxPool.prefork_paused): neither shares the machine with the pool's
background work; before each pair the pool is refilled (wait_until_refilled).

Repeats. Everything runs k times in turn (`--repeats`, k >= 3); each repeat gives one
value of each ratio, and the report shows the median with its min-max over the k repeats
(tests/bench/stats.py). A target is met only when the median meets it. Targets: (c) p50
<= 1.3x (a) p50; (b) p50 >= 6x (c) p50; gRPC throughput at concurrency 4 >= 1.7x
concurrency 1 (on 2 cores). The table also lists the isolation layers the runner reported.

Run: `python -m tests.bench.bench_sandbox [--repeats K] [--rounds N] [--update-docs]`
(a few minutes on a quiet 2-core machine with the defaults); `--quick` is a smoke run on a few programs
(never written into the docs). It prints a markdown table, writes docs/img/bench_sandbox.png
and, with --update-docs, replaces the results block of docs/benchmarks.md's "Sandbox render
latency" section.
"""
from __future__ import annotations

import os

from percept_sandbox import settings
from percept_sandbox.pool.runtime import prepared_mplconfigdir
from percept_sandbox.render.warmup import RENDER_ENV

# The children's environment and matplotlib config dir, before numpy loads its BLAS and
# matplotlib reads its rc (the imports above load neither).
os.environ.update(RENDER_ENV)
os.environ["MPLCONFIGDIR"] = prepared_mplconfigdir(settings.MPLCONFIGDIR.get())

import gc  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.bench.cli import bench_parser, measured_on, parse_checked  # noqa: E402
from tests.bench.plots import pyplot, save  # noqa: E402
from tests.bench.stats import Summary, replace_block, summarize, yes_no  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "sandbox" / "corpus"
DOCS = REPO / "docs" / "benchmarks.md"
PLOT = REPO / "docs" / "img" / "bench_sandbox.png"
MARK_START, MARK_END = "<!-- bench-sandbox:start -->", "<!-- bench-sandbox:end -->"
DPI = 100
QUICK_PROGRAMS = 4

# The fresh-process baseline (b): a new interpreter that renders one file the same way.
FRESH_PROCESS_DRIVER = """
import sys
from percept_sandbox.render.results import RenderOptions
from percept_sandbox.render.sequence import render_in_process
with open(sys.argv[1]) as handle:
    output = render_in_process(handle.read(), RenderOptions(dpi=int(sys.argv[2])))
for figure in output.figures:
    with open(f"figure-{figure.index}.png", "wb") as out:
        out.write(figure.data)
"""


@dataclass
class Series:
    name: str
    latencies_s: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_s)


@dataclass
class Repeat:
    """One repeat: a series per path and both throughputs."""

    floor: Series
    fresh: Series
    cli: Series
    grpc_one: Series
    grpc_four: Series
    throughput: tuple[float, float]

    def ratios(self) -> dict[str, float]:
        return {"cli_over_floor": self.cli.p50 / self.floor.p50,
                "grpc_over_floor": self.grpc_one.p50 / self.floor.p50,
                "fresh_over_cli": self.fresh.p50 / self.cli.p50,
                "throughput_four_over_one": self.throughput[1] / self.throughput[0]}


def programs(limit: int | None = None) -> list[tuple[Path, str]]:
    found = [(path, path.read_text()) for path in sorted(CORPUS.glob("*.py"))]
    return found[:limit] if limit else found


def warm_like_the_zygote() -> None:
    """What the zygote does before it forks its first child (pool/zygote.py: warm_up, compact_heap)."""
    from percept_sandbox.pool.zygote import compact_heap, warm_up

    warm_up()
    compact_heap()


def floor_render(code: str, limits) -> float:
    """(a): the child's render sequence, timed; the in-process clean-up after it, not timed."""
    from percept_sandbox.render import sequence
    from percept_sandbox.render.results import RenderOptions, Status

    with sequence.restored_matplotlib() as recorder:
        started = time.perf_counter()
        output = sequence.render(code, RenderOptions(dpi=DPI), limits, recorder)
        took = time.perf_counter() - started
    gc.collect()  # each child starts from the zygote's collected heap
    if output.outcome.status is not Status.OK:
        raise RuntimeError(f"floor: {output.outcome.status.value} {output.outcome.error_message}")
    return took


def measure_floor_and_cli(pool, corpus, rounds: int, scratch: Path) -> tuple[Series, Series]:
    """(a) and (c), alternating program by program, each pair inside one pre-fork pause."""
    from percept_sandbox.cli import render_file
    from percept_sandbox.render.results import RenderOptions, Status

    floor, cli = Series("(a) in-process floor"), Series("(c) sandbox, render CLI path")
    for _ in range(rounds):
        for path, code in corpus:
            if not pool.wait_until_refilled():
                raise RuntimeError("the pool did not refill")
            with pool.prefork_paused():
                floor.latencies_s.append(floor_render(code, pool.config.render_limits()))
                started = time.perf_counter()
                report = render_file(pool, path, RenderOptions(dpi=DPI), scratch / "cli")
                cli.latencies_s.append(time.perf_counter() - started)
            if report["status"] != Status.OK.value:
                raise RuntimeError(f"{path.name}: {report['status']} {report['error_message']}")
    return floor, cli


def measure_fresh_process(corpus, rounds: int, scratch: Path) -> Series:
    """(b) a new interpreter per render."""
    series = Series("(b) fresh python per render")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO / "sandbox-runner"), os.environ.get("PYTHONPATH", "")]))
    for _ in range(rounds):
        for path, _ in corpus:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", FRESH_PROCESS_DRIVER, str(path), str(DPI)], cwd=scratch,
                           env=env, check=True, capture_output=True)
            series.latencies_s.append(time.perf_counter() - started)
    return series


def measure_grpc(client, corpus, rounds: int) -> tuple[Series, Series, tuple[float, float]]:
    """(d) a real server: latency at concurrency 1 and 4, and both throughputs."""
    codes = [code for _, code in corpus]
    one, four = Series("(d) sandbox over gRPC, concurrency 1"), Series("(d) sandbox over gRPC, concurrency 4")
    elapsed = {1: 0.0, 4: 0.0}
    counts = {1: 0, 4: 0}
    lock = threading.Lock()

    def render(code: str, series: Series) -> None:
        started = time.perf_counter()
        response = client.render(code, dpi=DPI, retries=50)
        took = time.perf_counter() - started
        if response.status != 1:
            raise RuntimeError(f"render failed: {response.detail}")
        with lock:
            series.latencies_s.append(took)

    for _ in range(rounds):  # alternate the two phases so both see the same conditions
        for concurrency, series in ((1, one), (4, four)):
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as executor:
                list(executor.map(lambda c, series=series: render(c, series), codes))
            elapsed[concurrency] += time.perf_counter() - started
            counts[concurrency] += len(codes)
    return one, four, (counts[1] / elapsed[1], counts[4] / elapsed[4])


def run(repeats: int, rounds: int, fresh_rounds: int, limit: int | None) -> tuple[list[Repeat], dict]:
    from percept_sandbox.cli import render_file
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.pool import SandboxPool
    from percept_sandbox.render.results import RenderOptions
    from tests.sandbox.harness import SandboxServer

    corpus = programs(limit)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as scratch_dir:
        scratch = Path(scratch_dir)
        config = SandboxConfig.from_env(workers=1, queue_size=0)  # what `percept-sandbox render` uses
        with SandboxPool(config) as pool, SandboxServer(queue_size=8) as server, server.client() as client:
            isolation = {k: v for k, v in pool.isolation.items() if k != "warnings"}
            warm_like_the_zygote()
            for path, code in corpus:  # one untimed pass each: every side warm
                floor_render(code, config.render_limits())
                render_file(pool, path, RenderOptions(dpi=DPI), scratch / "cli")
                client.render(code, dpi=DPI)
            for index in range(repeats):
                print(f"repeat {index + 1}/{repeats}: (a)+(c), (d), (b) ...", file=sys.stderr)
                floor, cli = measure_floor_and_cli(pool, corpus, rounds, scratch)
                one, four, throughput = measure_grpc(client, corpus, rounds)
                fresh = measure_fresh_process(corpus, fresh_rounds, scratch)
                results.append(Repeat(floor, fresh, cli, one, four, throughput))
    return results, isolation


def summaries(results: list[Repeat]) -> dict[str, Summary]:
    keys = results[0].ratios().keys()
    return {key: summarize(r.ratios()[key] for r in results) for key in keys}


def merged(results: list[Repeat], attribute: str) -> Series:
    series = [getattr(r, attribute) for r in results]
    return Series(series[0].name, [x for s in series for x in s.latencies_s])


def plot(series: list[Series], throughput: tuple[float, float], path: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 1]})
    labels = [s.name.replace(", ", ",\n") for s in series]
    left.boxplot([[x * 1000 for x in s.latencies_s] for s in series], orientation="horizontal", tick_labels=labels,
                 showfliers=False)
    left.set_xscale("log")
    left.set_xlabel("latency per render (ms, log scale)")
    left.set_title(f"Render latency, STEM programs at {DPI} dpi (all repeats)")
    left.invert_yaxis()
    right.bar(["c=1", "c=4"], throughput, color=["#4c72b0", "#dd8452"])
    right.set_ylabel("renders / s (median of repeats)")
    right.set_title(f"gRPC throughput ({os.cpu_count()} cores)")
    save(fig, path)


TARGETS = (  # (key, label, target text, threshold, higher is better)
    ("cli_over_floor", "(c) sandbox p50 / (a) in-process p50", "<= 1.3x", 1.3, False),
    ("grpc_over_floor", "(d) gRPC c=1 p50 / (a) in-process p50", "(for reference)", None, False),
    ("fresh_over_cli", "(b) fresh process p50 / (c) sandbox p50", ">= 6x", 6.0, True),
    ("throughput_four_over_one", "gRPC throughput c=4 / c=1", ">= 1.7x", 1.7, True),
)


def markdown(results: list[Repeat], isolation: dict, rounds: int, fresh_rounds: int, corpus_size: int) -> str:
    ratios = summaries(results)
    rows = ["| path | renders | p50 (ms), median of repeats (min–max) | p90 (ms), all renders |", "|---|---|---|---|"]
    for attribute in ("floor", "fresh", "cli", "grpc_one", "grpc_four"):
        all_renders = merged(results, attribute)
        p50 = summarize(getattr(r, attribute).p50 * 1000 for r in results)
        rows.append(f"| {all_renders.name} | {len(all_renders.latencies_s)} | {p50.format('', 1)} | "
                    f"{all_renders.pct(0.9) * 1000:.1f} |")
    rows += ["", "| ratio | median (min–max) over repeats | target | met (median) |", "|---|---|---|---|"]
    for key, label, target_text, threshold, higher in TARGETS:
        summary = ratios[key]
        met = "—" if threshold is None else yes_no(summary.meets(threshold, higher_is_better=higher))
        rows.append(f"| {label} | {summary.format('x')} | {target_text} | {met} |")
    one = summarize(r.throughput[0] for r in results)
    four = summarize(r.throughput[1] for r in results)
    layers = ", ".join(f"{name} {'on' if active else 'OFF'}" for name, active in isolation.items())
    rows += ["", f"gRPC throughput: {one.format(' renders/s')} at concurrency 1, {four.format(' renders/s')} at "
                 "concurrency 4.", "",
             f"Isolation layers active (the runner's own report): {layers}.", "",
             f"{measured_on()}; {len(results)} repeats, each {rounds} rounds over the {corpus_size} "
             f"programs ((b): {fresh_rounds})."]
    return "\n".join(rows)


def update_docs(table: str, path: Path = DOCS) -> None:
    path.write_text(replace_block(path.read_text(), MARK_START, MARK_END, table))


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, quick=f"{QUICK_PROGRAMS} programs, one round")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the corpus per repeat for (a), (c), (d)")
    parser.add_argument("--fresh-rounds", type=int, default=1, help="passes per repeat for (b), which is slow")
    args = parse_checked(parser, argv)
    rounds, fresh_rounds = (1, 1) if args.quick else (args.rounds, args.fresh_rounds)
    limit = QUICK_PROGRAMS if args.quick else None
    results, isolation = run(args.repeats, rounds, fresh_rounds, limit)
    table = markdown(results, isolation, rounds, fresh_rounds, len(programs(limit)))
    series = [merged(results, a) for a in ("floor", "fresh", "cli", "grpc_one", "grpc_four")]
    throughput = (statistics.median(r.throughput[0] for r in results),
                  statistics.median(r.throughput[1] for r in results))
    if not args.quick:
        plot(series, throughput, PLOT)
    print(table)
    if args.update_docs:
        update_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
