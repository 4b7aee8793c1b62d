"""Sandbox render latency: the jail against rendering in-process and a process per render.

Renders the 20 STEM-style programs of tests/sandbox/corpus (varied complexity:
line plots to 3D surfaces, contour maps, ODE solutions, pandas tables), all in
one run, four ways, and takes every ratio against baselines measured in that
same run:

  (a) in-process warm render, the floor: a long-lived process that has drawn before
      runs each program and saves its figures (the same render protocol, no jail);
  (b) a fresh `python` per render, as the STEM2Code-Eval and ChartMimic harnesses run
      code: interpreter start, imports, the same render, exit;
  (c) the sandbox through the `percept-sandbox render` code path (cli.render_file on a
      started pool: CLI start-up excluded), images written to disk as the CLI does;
  (d) the sandbox over gRPC (a real `percept-sandbox serve` process) at concurrency 1
      and 4, for latency and throughput.

(a) and (c) alternate program by program, so load from anything else on the machine
falls on both alike. Targets: (c) p50 <= 1.3x (a) p50; (b) p50 >= 6x (c) p50;
throughput at concurrency 4 >= 1.7x concurrency 1 (on 2 cores).

Run: `python -m tests.bench.bench_sandbox [--rounds N] [--update-docs]`; it prints a
markdown table, writes docs/img/bench_sandbox.png, and with --update-docs replaces
the results block of docs/benchmarks.md's "Sandbox render latency" section.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "sandbox" / "corpus"
DOCS = REPO / "docs" / "benchmarks.md"
PLOT = REPO / "docs" / "img" / "bench_sandbox.png"
MARK_START, MARK_END = "<!-- bench-sandbox:start -->", "<!-- bench-sandbox:end -->"
DPI = 100

# The fresh-process baseline (b): a new interpreter that renders one file the same way.
FRESH_PROCESS_DRIVER = """
import sys
import matplotlib
matplotlib.use("Agg")
from percept_sandbox.execute import render_in_process
with open(sys.argv[1]) as handle:
    images = render_in_process(handle.read(), dpi=int(sys.argv[2]))
for i, data in enumerate(images):
    with open(f"figure-{i}.png", "wb") as out:
        out.write(data)
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


def programs() -> list[tuple[Path, str]]:
    return [(path, path.read_text()) for path in sorted(CORPUS.glob("*.py"))]


def warm_in_process() -> None:
    from percept_sandbox import warmup

    warmup.import_libraries()
    warmup.draw_warmup_figure()


def measure_floor_and_cli(rounds: int, scratch: Path) -> tuple[Series, Series]:
    """(a) and (c), alternating program by program."""
    from percept_sandbox.cli import render_file
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.execute import render_in_process
    from percept_sandbox.pool import SandboxPool
    from percept_sandbox.results import RenderOptions, Status

    floor, cli = Series("(a) in-process floor"), Series("(c) sandbox, render CLI path")
    corpus = programs()
    config = SandboxConfig.from_env(workers=1, queue_size=0)  # what `percept-sandbox render` uses
    with SandboxPool(config) as pool:
        warm_in_process()
        cwd = os.getcwd()
        os.chdir(scratch)
        try:
            for _, code in corpus:  # one untimed pass each: both sides warm
                render_in_process(code, dpi=DPI)
            for path, _ in corpus:
                render_file(pool, path, RenderOptions(dpi=DPI), scratch / "cli")
            for _ in range(rounds):
                for path, code in corpus:
                    started = time.perf_counter()
                    render_in_process(code, dpi=DPI)
                    floor.latencies_s.append(time.perf_counter() - started)
                    time.sleep(0.02)  # let the pool's pre-fork of the next child finish
                    started = time.perf_counter()
                    report = render_file(pool, path, RenderOptions(dpi=DPI), scratch / "cli")
                    cli.latencies_s.append(time.perf_counter() - started)
                    if report["status"] != Status.OK.value:
                        raise RuntimeError(f"{path.name}: {report['status']} {report['error_message']}")
        finally:
            os.chdir(cwd)
    return floor, cli


def measure_fresh_process(rounds: int, scratch: Path) -> Series:
    """(b) a new interpreter per render."""
    series = Series("(b) fresh python per render")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        [str(REPO / "sandbox-runner"), os.environ.get("PYTHONPATH", "")]))
    for _ in range(rounds):
        for path, _ in programs():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", FRESH_PROCESS_DRIVER, str(path), str(DPI)], cwd=scratch,
                           env=env, check=True, capture_output=True)
            series.latencies_s.append(time.perf_counter() - started)
    return series


def measure_grpc(rounds: int) -> tuple[Series, Series, float, float]:
    """(d) a real server: latency at concurrency 1 and 4, and both throughputs."""
    from tests.sandbox.harness import SandboxServer

    corpus = [code for _, code in programs()]
    one, four = Series("(d) sandbox over gRPC, concurrency 1"), Series("(d) sandbox over gRPC, concurrency 4")
    elapsed = {1: 0.0, 4: 0.0}
    counts = {1: 0, 4: 0}
    with SandboxServer(queue_size=8) as server:  # workers: one per core, the default
        with server.client() as client:
            for code in corpus:
                client.render(code, dpi=DPI)

            def render(code: str, series: Series, lock: threading.Lock) -> None:
                started = time.perf_counter()
                response = client.render(code, dpi=DPI, retries=50)
                took = time.perf_counter() - started
                if response.status != 1:
                    raise RuntimeError(f"render failed: {response.detail}")
                with lock:
                    series.latencies_s.append(took)

            lock = threading.Lock()
            for _ in range(rounds):  # alternate the two phases so both see the same conditions
                for concurrency, series in ((1, one), (4, four)):
                    started = time.perf_counter()
                    with ThreadPoolExecutor(concurrency) as executor:
                        list(executor.map(lambda c: render(c, series, lock), corpus))
                    elapsed[concurrency] += time.perf_counter() - started
                    counts[concurrency] += len(corpus)
    return one, four, counts[1] / elapsed[1], counts[4] / elapsed[4]


def plot(series: list[Series], throughput: tuple[float, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 1]})
    labels = [s.name.replace(", ", ",\n") for s in series]
    left.boxplot([[x * 1000 for x in s.latencies_s] for s in series], orientation="horizontal", tick_labels=labels,
                 showfliers=False)
    left.set_xscale("log")
    left.set_xlabel("latency per render (ms, log scale)")
    left.set_title(f"Render latency, 20 STEM programs at {DPI} dpi")
    left.invert_yaxis()
    right.bar(["c=1", "c=4"], throughput, color=["#4c72b0", "#dd8452"])
    right.set_ylabel("renders / s")
    right.set_title(f"gRPC throughput ({os.cpu_count()} cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(series: list[Series], ratios: dict[str, tuple[float, str, bool]], throughput: tuple[float, float],
             rounds: int) -> str:
    rows = ["| path | renders | p50 (ms) | p90 (ms) |", "|---|---|---|---|"]
    for s in series:
        rows.append(f"| {s.name} | {len(s.latencies_s)} | {s.p50 * 1000:.1f} | {s.pct(0.9) * 1000:.1f} |")
    rows.append("")
    rows.append("| ratio | measured | target | met |")
    rows.append("|---|---|---|---|")
    for name, (value, target, met) in ratios.items():
        rows.append(f"| {name} | {value:.2f}x | {target} | {'yes' if met else 'NO'} |")
    rows.append("")
    rows.append(f"gRPC throughput: {throughput[0]:.2f} renders/s at concurrency 1, "
                f"{throughput[1]:.2f} renders/s at concurrency 4.")
    rows.append("")
    rows.append(f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}; {rounds} rounds over the 20 programs.")
    return "\n".join(rows)


def update_docs(table: str) -> None:
    text = DOCS.read_text()
    start, end = text.index(MARK_START), text.index(MARK_END)
    DOCS.write_text(text[:start + len(MARK_START)] + "\n" + table + "\n" + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the corpus for (a), (c), (d)")
    parser.add_argument("--fresh-rounds", type=int, default=2, help="passes for (b), which is slow")
    parser.add_argument("--update-docs", action="store_true", help="write the results into docs/benchmarks.md")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as scratch:
        scratch_path = Path(scratch)
        print("measuring (a) in-process and (c) the render CLI path ...", file=sys.stderr)
        floor, cli = measure_floor_and_cli(args.rounds, scratch_path)
        print("measuring (d) gRPC at concurrency 1 and 4 ...", file=sys.stderr)
        grpc_one, grpc_four, thr_one, thr_four = measure_grpc(args.rounds)
        print("measuring (b) a fresh python per render ...", file=sys.stderr)
        fresh = measure_fresh_process(args.fresh_rounds, scratch_path)

    series = [floor, fresh, cli, grpc_one, grpc_four]
    ratios = {
        "(c) sandbox p50 / (a) in-process p50": (cli.p50 / floor.p50, "<= 1.3x", cli.p50 / floor.p50 <= 1.3),
        "(d) gRPC c=1 p50 / (a) in-process p50": (grpc_one.p50 / floor.p50, "(for reference)", True),
        "(b) fresh process p50 / (c) sandbox p50": (fresh.p50 / cli.p50, ">= 6x", fresh.p50 / cli.p50 >= 6),
        "gRPC throughput c=4 / c=1": (thr_four / thr_one, ">= 1.7x", thr_four / thr_one >= 1.7),
    }
    table = markdown(series, ratios, (thr_one, thr_four), args.rounds)
    plot(series, (thr_one, thr_four), PLOT)
    print(table)
    if args.update_docs:
        update_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
