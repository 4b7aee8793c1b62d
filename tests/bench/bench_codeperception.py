"""Code-perception through the gateway: render overhead against the sandbox, and best-of-4
against best-of-1.

Real processes, started here: a `percept-sandbox serve` (2 workers, queue 16), the
code-perception service (`python -m services.codeperception`, the `reference` backend, which
answers with the dataset's ground-truth program: every candidate of a best-of-N is the same
program, so N changes only the work, never the result) and the gateway (`python -m gateway`,
one uvicorn worker). The dataset is built by the service's own builder
(services/codeperception/sample_dataset.py) from tests/sandbox/corpus/*.py, rendered by the
same sandbox at the same DPI as every measured render.

  (1) Render: `POST /v1/stem/render` (gateway -> code-perception Render -> sandbox) against a
      direct `SandboxService/Render` on the same sandbox server (percept_sandbox.client), same
      program, same DPI, trace on for both; one call at a time. The two sides alternate program
      by program, the order flipping every round, so load falls on both alike. Timed: request
      sent to response body received (JSON / protobuf parsing of the answer not timed on
      either side). Overhead = gateway p50 / direct p50 - 1. Target: <= 15%.
  (2) Best-of-N: `POST /v1/stem/image-to-code` with candidates=4 against candidates=1 on the
      dataset images, wall time per call, alternating the same way. Target: <= 2.5x on 2 cores,
      because the service renders the candidates concurrently (2 sandbox workers).

Repeats: the whole set runs k times (`--repeats`, k >= 3); each repeat gives one value of each
ratio; the report shows the median with its min-max (tests/bench/stats.py), and a target is met
only when the median meets it.

Run: `python -m tests.bench.bench_codeperception [--repeats K] [--rounds N] [--update-docs]`
(about 3-4 minutes on a quiet 2-core machine with the defaults); `--quick` is a smoke run on a few
programs (never written into the docs). It prints a markdown table, writes
docs/img/bench_codeperception.png and, with --update-docs, replaces the results block of
docs/benchmarks.md's "Code perception through the gateway" section.
"""
from __future__ import annotations

import base64
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.bench.cli import bench_parser, measured_on, parse_checked
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import replace_block, summarize, yes_no
from tests.integration.gateway.stem_support import DPI, CodePerceptionProcess, build_dataset
from tests.integration.gateway.support import running_gateway
from tests.sandbox.harness import CORPUS, SandboxServer

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "benchmarks.md"
PLOT = REPO / "docs" / "img" / "bench_codeperception.png"
MARK_START, MARK_END = "<!-- bench-codeperception:start -->", "<!-- bench-codeperception:end -->"
COMMAND = ".venv/bin/python -m tests.bench.bench_codeperception --update-docs"
SANDBOX_WORKERS = 2
SANDBOX_QUEUE = 16
BEST_OF = 4
BEST_OF_IMAGES = 6       # dataset images used for (2) per round
QUICK_PROGRAMS = 3
OVERHEAD_TARGET = 0.15
BEST_OF_TARGET = 2.5
UNREACHABLE_TRITON = "127.0.0.1:1"  # STEM routes do not use Triton


@dataclass
class Series:
    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Repeat:
    direct: Series
    gateway: Series
    best_of_one: Series
    best_of_n: Series

    def overhead(self) -> float:
        return self.gateway.p50 / self.direct.p50 - 1

    def best_of_ratio(self) -> float:
        return self.best_of_n.p50 / self.best_of_one.p50


def programs(limit: int | None) -> list[tuple[str, str]]:
    found = [(path.stem, path.read_text()) for path in sorted(CORPUS.glob("*.py"))]
    return found[:limit] if limit else found


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def direct_render(sandbox, code: str) -> float:
    took, response = _timed(lambda: sandbox.render(code, dpi=DPI))
    if response.status != 1 or not response.figures:
        raise RuntimeError(f"direct render failed: {response.detail}")
    return took


def gateway_render(http: httpx.Client, code: str) -> float:
    took, response = _timed(lambda: http.post("/v1/stem/render", json={"code": code, "dpi": DPI}))
    if response.status_code != 200 or response.json()["status"] != "ok":
        raise RuntimeError(f"gateway render failed: {response.status_code} {response.text[:300]}")
    return took


def image_to_code(http: httpx.Client, image_b64: str, candidates: int) -> float:
    took, response = _timed(lambda: http.post("/v1/stem/image-to-code", json={
        "image": image_b64, "candidates": candidates, "dpi": DPI}))
    if response.status_code != 200:
        raise RuntimeError(f"image-to-code failed: {response.status_code} {response.text[:300]}")
    body = response.json()
    if len(body["candidates"]) != candidates or body["fidelity"]["aggregate"] < 0.99:
        raise RuntimeError(f"unexpected image-to-code answer: {body['fidelity']}")
    return took


def alternate(round_index: int, first, second) -> None:
    """Both sides of a pair, the order flipping every round."""
    for call in ((first, second) if round_index % 2 == 0 else (second, first)):
        call()


def measure(sandbox, http: httpx.Client, corpus, images: list[str], rounds: int) -> Repeat:
    repeat = Repeat(Series("direct sandbox gRPC"), Series("gateway -> code-perception -> sandbox"),
                    Series("best-of-1"), Series(f"best-of-{BEST_OF}"))
    for round_index in range(rounds):
        for _, code in corpus:
            alternate(round_index, lambda code=code: repeat.direct.seconds.append(direct_render(sandbox, code)),
                      lambda code=code: repeat.gateway.seconds.append(gateway_render(http, code)))
        for image in images:
            alternate(round_index, lambda image=image: repeat.best_of_one.seconds.append(image_to_code(http, image, 1)),
                      lambda image=image: repeat.best_of_n.seconds.append(image_to_code(http, image, BEST_OF)))
    return repeat


def run(repeats: int, rounds: int, limit: int | None) -> list[Repeat]:
    corpus = programs(limit)
    with tempfile.TemporaryDirectory(prefix="bench-codeperception-") as scratch, \
            SandboxServer(workers=SANDBOX_WORKERS, queue_size=SANDBOX_QUEUE) as sandbox_server:
        names = tuple(f"{name}.py" for name, _ in corpus)
        dataset = build_dataset(sandbox_server, Path(scratch) / "stem2code", names)
        images = [base64.b64encode(path.read_bytes()).decode()
                  for path in sorted((dataset / "images").glob("*.png"))][:BEST_OF_IMAGES]
        with CodePerceptionProcess(sandbox_server.target, dataset) as service, \
                running_gateway(UNREACHABLE_TRITON, PERCEPT_CODEPERCEPTION_URL=service.target) as gateway, \
                httpx.Client(base_url=gateway, timeout=120) as http, sandbox_server.client() as sandbox:
            for _, code in corpus:  # one untimed pass: every side warm
                direct_render(sandbox, code)
                gateway_render(http, code)
            image_to_code(http, images[0], BEST_OF)
            results = []
            for index in range(repeats):
                print(f"repeat {index + 1}/{repeats} ...", file=sys.stderr)
                results.append(measure(sandbox, http, corpus, images, rounds))
    return results


def _merged(results: list[Repeat], attribute: str) -> Series:
    series = [getattr(r, attribute) for r in results]
    return Series(series[0].name, [x for s in series for x in s.seconds])


def markdown(results: list[Repeat], rounds: int, corpus_size: int, images: int) -> str:
    rows = ["| path | calls | p50 (ms), median of repeats (min–max) |", "|---|---|---|"]
    for attribute in ("direct", "gateway", "best_of_one", "best_of_n"):
        merged = _merged(results, attribute)
        p50 = summarize(getattr(r, attribute).p50 * 1000 for r in results)
        rows.append(f"| {merged.name} | {len(merged.seconds)} | {p50.format('', 1)} |")
    overhead = summarize(r.overhead() * 100 for r in results)
    ratio = summarize(r.best_of_ratio() for r in results)
    rows += ["", "| ratio | median (min–max) over repeats | target | met (median) |", "|---|---|---|---|",
             f"| Render overhead: gateway p50 / direct sandbox p50 - 1 | {overhead.format('%', 1)} | "
             f"<= {OVERHEAD_TARGET:.0%} | {yes_no(overhead.meets(OVERHEAD_TARGET * 100, higher_is_better=False))} |",
             f"| best-of-{BEST_OF} p50 / best-of-1 p50 (wall time) | {ratio.format('x')} | <= {BEST_OF_TARGET}x | "
             f"{yes_no(ratio.meets(BEST_OF_TARGET, higher_is_better=False))} |",
             "",
             f"Settings: sandbox {SANDBOX_WORKERS} workers, queue {SANDBOX_QUEUE}; code-perception `reference` "
             f"backend (the same ground-truth program for every candidate), default settings; gateway 1 uvicorn "
             f"worker; {DPI} dpi everywhere; one call at a time.",
             "",
             f"{measured_on()}; {len(results)} repeats, each {rounds} rounds over the {corpus_size} "
             f"programs (render) and {images} dataset images (best-of-N). Reproduce: `{COMMAND}`."]
    return "\n".join(rows)


def plot(results: list[Repeat], path: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    renders = [_merged(results, a) for a in ("direct", "gateway")]
    left.boxplot([[x * 1000 for x in s.seconds] for s in renders], orientation="horizontal",
                 tick_labels=[s.name.replace(" -> ", " ->\n") for s in renders], showfliers=False)
    left.set_xlabel("latency per render (ms)")
    left.set_title(f"Render, STEM programs at {DPI} dpi (all repeats)")
    left.invert_yaxis()
    medians, errors = median_bars(summarize(getattr(r, attribute).p50 for r in results)
                                  for attribute in ("best_of_one", "best_of_n"))
    right.bar(["best-of-1", f"best-of-{BEST_OF}"], medians, yerr=errors, capsize=6,
              color=["#4c72b0", "#dd8452"])
    right.axhline(medians[0] * BEST_OF_TARGET, color="grey", linestyle="--", linewidth=1,
                  label=f"target: {BEST_OF_TARGET}x best-of-1")
    right.set_ylabel("wall time per call (s), median of repeats")
    right.set_title(f"image-to-code ({os.cpu_count()} cores)")
    right.legend(loc="upper left")
    save(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, quick=f"{QUICK_PROGRAMS} programs, one round")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the programs and images per repeat")
    args = parse_checked(parser, argv)
    rounds = 1 if args.quick else args.rounds
    limit = QUICK_PROGRAMS if args.quick else None
    results = run(args.repeats, rounds, limit)
    corpus_size = len(programs(limit))
    table = markdown(results, rounds, corpus_size, min(BEST_OF_IMAGES, corpus_size))
    if not args.quick:
        plot(results, PLOT)
    print(table)
    if args.update_docs:
        DOCS.write_text(replace_block(DOCS.read_text(), MARK_START, MARK_END, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
