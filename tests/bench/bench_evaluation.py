"""percept-eval throughput against upstream's execution pattern, on the same generated split.

Real processes, started here: one `percept-sandbox serve` (2 workers, queue 16). The split is
written by the data engine (`percept-eval synth`) through that server. Then, over the same
samples, in one run:

  (1) percept-eval: the harness as `percept-eval run` runs it (services.evaluation.harness), the
      `reference` backend, every program rendered in the sandbox at the protocol's 300 dpi and
      30 s limit, each render scored against the split's image. Two settings: the default
      (the ground truth rendered too, for the trace metrics: two renders per sample) and
      `--no-trace-metrics` (one render per sample, image metrics). Per sample the harness decodes
      the split's image once (for the model and, on white, for the metrics) and the render once,
      and renders the ground truth at its trace dpi (36) for the trace only.
  (1b) a protocol deviation, for scale only: the default harness with `--dpi 100` (the candidate
      rendered at 100 dpi; the metrics compare at 256/512 px, so their values move slightly).
      Not the protocol: the ratio that counts is (1)'s.
  (2) upstream: what upstream's harness does per sample: a fresh `python` subprocess running the
      font prelude plus the program with the save injected by line rule
      (services.evaluation.protocol.upstream_script), `plt.savefig(..., dpi=300)` to a file, a
      30 s timeout; no scoring at all. The same number of samples in flight as the harness
      renders (RENDER_CONCURRENCY), through a thread pool.
  (3) execution alone, like for like with (2): each program rendered once in the sandbox at 300
      dpi (percept_sandbox.client, trace omitted), as many in flight; no scoring.

Throughput = samples / wall time x 60 (samples/min), from the first sample started to the last
one finished (for the harness: its whole `run`, start-up of the backend included: the
`reference` backend stands in for the model and indexes the split's images by pixel hash at
start and per sample). Each repeat runs all five on the same split, the order rotating every
repeat; the ratio harness / upstream is taken within each repeat. Target: >= 6x (default
harness settings).

Run: `python -m tests.bench.bench_evaluation [--samples N] [--repeats K] [--write-docs]` (about
6 minutes on a quiet 2-core machine with the defaults). It prints a markdown table and, with
--write-docs, writes docs/img/bench_evaluation.png and the results block of docs/benchmarks.md's
"Evaluation harness" section.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.codeperception.dataset import read_samples
from services.evaluation.cli import main as percept_eval
from services.evaluation.harness import Harness, RunConfig
from services.evaluation.protocol import DPI, EXEC_TIMEOUT_S, upstream_script
from tests.bench.cli import bench_parser, measured_on, parse_checked
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import replace_block, summarize, yes_no
from tests.sandbox.harness import SandboxServer

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "benchmarks.md"
PLOT = REPO / "docs" / "img" / "bench_evaluation.png"
MARK_START, MARK_END = "<!-- bench-evaluation:start -->", "<!-- bench-evaluation:end -->"
COMMAND = ".venv/bin/python -m tests.bench.bench_evaluation --write-docs"
SANDBOX_WORKERS = 2
SANDBOX_QUEUE = 16
RENDER_CONCURRENCY = 2       # = sandbox workers; upstream gets as many subprocesses in flight
GENERATION_CONCURRENCY = 8
SPLIT_DPI = DPI              # the data engine's default: the protocol's dpi
TARGET = 6.0
SEED = 5
LOW_DPI = 100               # the deviation row's candidate dpi
PATHS = ("harness", "harness_image_only", "harness_low_dpi", "sandbox_only", "upstream")
LABELS = {"harness": "percept-eval (default: trace metrics, 2 renders/sample)",
          "harness_image_only": "percept-eval --no-trace-metrics (1 render/sample)",
          "harness_low_dpi": f"percept-eval --dpi {LOW_DPI} (a deviation: candidate not at the protocol's dpi)",
          "sandbox_only": "execution alone: the harness's sandbox render step, no scoring",
          "upstream": "upstream pattern (python subprocess per sample, injected save)"}


def make_split(sandbox: SandboxServer, root: Path, samples: int) -> Path:
    split = root / "split"
    status = percept_eval(["synth", "--split", str(split), "--count", str(samples), "--seed", str(SEED),
                           "--sandbox", sandbox.target, "--dpi", str(SPLIT_DPI), "--concurrency", "4"])
    if status:
        raise SystemExit(f"the data engine failed ({status})")
    return split


def harness_rate(sandbox: SandboxServer, split: Path, out: Path, trace_metrics: bool, dpi: int = DPI) -> float:
    config = RunConfig(data=split / "data.jsonl", images=split / "images", out=out, backend="reference",
                       sandbox_url=sandbox.target, dpi=dpi, render_timeout_s=EXEC_TIMEOUT_S,
                       generation_concurrency=GENERATION_CONCURRENCY, render_concurrency=RENDER_CONCURRENCY,
                       trace_metrics=trace_metrics, progress_interval_s=3600)
    started = time.monotonic()
    result = asyncio.run(Harness(config).run())
    seconds = time.monotonic() - started
    if result.ran != result.total:
        raise SystemExit("the harness did not run every sample")
    return result.total / seconds * 60


def sandbox_rate(sandbox: SandboxServer, split: Path) -> float:
    """Like for like with upstream: only the execution, each program once at 300 dpi, as many in flight."""
    samples = read_samples(split / "data.jsonl", split / "images")
    with sandbox.client() as client:
        def one(sample) -> None:
            response = client.render(sample.code, dpi=DPI, timeout_s=EXEC_TIMEOUT_S, retries=50, omit_trace=True)
            if not response.figures:
                raise SystemExit(f"sample {sample.index} did not render: {response.detail}")

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=RENDER_CONCURRENCY) as pool:
            list(pool.map(one, samples))
        return len(samples) / (time.monotonic() - started) * 60


def upstream_rate(split: Path, out: Path) -> tuple[float, int]:
    samples = read_samples(split / "data.jsonl", split / "images")
    out.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    env["MPLBACKEND"] = "Agg"  # upstream runs headless

    def one(sample) -> bool:
        script = out / f"{sample.index}.py"
        script.write_text(upstream_script(sample.code, str(out / sample.image_path.name)))
        try:
            done = subprocess.run([sys.executable, str(script)], cwd=out, env=env, capture_output=True,
                                  timeout=EXEC_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=RENDER_CONCURRENCY) as pool:
        executed = sum(pool.map(one, samples))
    return len(samples) / (time.monotonic() - started) * 60, executed


def run(samples: int, repeats: int) -> tuple[list[dict], int]:
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp, \
            SandboxServer(workers=SANDBOX_WORKERS, queue_size=SANDBOX_QUEUE) as sandbox:
        root = Path(tmp)
        split = make_split(sandbox, root, samples)
        harness_rate(sandbox, split, root / "warm", trace_metrics=False)  # warm caches and imports once
        results, upstream_executed = [], samples
        for repeat in range(repeats):
            rates = {}
            order = PATHS[repeat % len(PATHS):] + PATHS[:repeat % len(PATHS)]
            for path in order:
                print(f"repeat {repeat + 1}/{repeats}: {path} ...", file=sys.stderr)
                out = root / f"r{repeat}-{path}"
                if path == "upstream":
                    rates[path], upstream_executed = upstream_rate(split, out)
                elif path == "sandbox_only":
                    rates[path] = sandbox_rate(sandbox, split)
                elif path == "harness_low_dpi":
                    rates[path] = harness_rate(sandbox, split, out, trace_metrics=True, dpi=LOW_DPI)
                else:
                    rates[path] = harness_rate(sandbox, split, out, trace_metrics=path == "harness")
            results.append(rates)
    return results, upstream_executed


def markdown(results: list[dict], samples: int, upstream_executed: int) -> str:
    rows = ["| path | samples/min, median of repeats (min–max) |", "|---|---|"]
    for path in PATHS:
        rows.append(f"| {LABELS[path]} | {summarize(r[path] for r in results).format('', 1)} |")
    ratio = summarize(r["harness"] / r["upstream"] for r in results)
    image_only = summarize(r["harness_image_only"] / r["upstream"] for r in results)
    rows += ["", "| ratio (within each repeat) | median (min–max) | target | met (median) |", "|---|---|---|---|",
             f"| percept-eval (default) / upstream pattern | {ratio.format('x')} | >= {TARGET:.0f}x | "
             f"{yes_no(ratio.meets(TARGET))} |",
             f"| percept-eval --no-trace-metrics / upstream pattern | {image_only.format('x')} | | |",
             f"| percept-eval --dpi {LOW_DPI} (deviation) / upstream pattern | "
             f"{summarize(r['harness_low_dpi'] / r['upstream'] for r in results).format('x')} | | |",
             f"| execution alone (sandbox) / upstream pattern | "
             f"{summarize(r['sandbox_only'] / r['upstream'] for r in results).format('x')} | | |",
             "",
             f"Settings: a {samples}-sample split from the data engine (seed {SEED}, {SPLIT_DPI} dpi images); "
             f"renders at {DPI} dpi, {EXEC_TIMEOUT_S:.0f} s limit on both sides; sandbox {SANDBOX_WORKERS} workers, "
             f"queue {SANDBOX_QUEUE}; harness `reference` backend, generation concurrency {GENERATION_CONCURRENCY}, "
             f"render concurrency {RENDER_CONCURRENCY}, scoring included; upstream pattern "
             f"{RENDER_CONCURRENCY} subprocesses in flight, no scoring ({upstream_executed}/{samples} executed).",
             "",
             f"{measured_on()}; {len(results)} repeats. Reproduce: `{COMMAND}`."]
    return "\n".join(rows)


def plot(results: list[dict], path: Path) -> None:
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(8, 3.6))
    medians, errors = median_bars(summarize(r[name] for r in results) for name in PATHS)
    ax.barh([LABELS[name].split(" (")[0] for name in PATHS], medians, xerr=errors, capsize=6,
            color=["#4c72b0", "#55a868", "#64b5cd", "#8172b2", "#dd8452"])
    ax.axvline(medians[-1] * TARGET, color="grey", linestyle="--", linewidth=1, label=f"target: {TARGET:.0f}x upstream")
    ax.set_xlabel("samples per minute, median of repeats (min–max)")
    ax.set_title(f"STEM2Code-Eval execution throughput, {DPI} dpi ({os.cpu_count()} cores)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    save(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, repeats_help="times all five run", docs_flag="--write-docs")
    parser.add_argument("--samples", type=int, default=60, help="samples in the generated split")
    args = parse_checked(parser, argv)
    results, upstream_executed = run(args.samples, args.repeats)
    table = markdown(results, args.samples, upstream_executed)
    print(table)
    if args.write_docs:
        plot(results, PLOT)
        text = DOCS.read_text()
        if MARK_START not in text:
            text += f"\n## Evaluation harness\n\n{MARK_START}\n{MARK_END}\n"
        DOCS.write_text(replace_block(text, MARK_START, MARK_END, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
