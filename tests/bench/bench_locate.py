"""Locate with PNG heatmaps: what the gateway adds to the model's own time on a one-page document.

The page is an A4 page typeset by reportlab and rendered at 110 dpi (909 x 1286 pixels, the
locate evaluation's first text-layer PDF page, services/evaluation/locate/pdfpages.py). The query
is the first words of that page's title, and every one of its tokens gets a heatmap.

Three paths answer the same request, alternately (A, B, C, A, B, C ...: other load on the machine
falls on all of them alike):

* model: the serving path's locate pipeline in this process, the code `tokenfd_locate` runs in
  Triton (decode, tiling, tokenizer, the cpu encoder graph in ONNX Runtime, stitching;
  services/models/tokenfd/triton/locate.py), with the same intra-op threads as the served encoder;
* gateway, heatmap_format=none: the request through the real gateway and Triton, no heatmaps;
* gateway, heatmap_format=png: the same with a PNG heatmap of every token (at the gateway's
  default heatmap size), the request the targets are about.

Figures per repeat: the p50 of each path over its calls; the gateway's post-processing (its own
`timings.postprocess_s`: boxes, matches, heatmaps) as a share of the png request's wall time seen
by the client; the png request over the model. Targets (issue: heatmaps cost at most 20% of a
request, a request at most 1.5x the model): share <= 20%, ratio <= 1.5x, judged on the median of
the repeats (tests/bench/stats.py).

Any checkpoint in the upstream layout: the served default (models/tokenfd-mini when it holds a
checkpoint, else the tiny seeded fixture). Weights change no timing here; the architecture does, and
so does the reading the checkpoint records (with the ink reading the gateway also decodes the page and
finds its ink while the model runs, then its word boxes: services/models/tokenfd/ink_words.py).

Run: `python -m tests.bench.bench_locate [--threads N] [--repeats K] [--calls N] [--write-docs]`.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.bench.cli import measured_on
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import Summary, replace_block, summarize, yes_no

DOCS_START, DOCS_END = "<!-- bench-locate:start -->", "<!-- bench-locate:end -->"
TARGET_POSTPROCESS_SHARE = 0.20    # of the png request's wall time, at most
TARGET_REQUEST_OVER_MODEL = 1.5    # png request / model, at most
QUERY_WORDS = 4                    # words of the page's title in the query
MODEL, GATEWAY_NONE, GATEWAY_PNG = "model (in-process pipeline)", "gateway, no heatmaps", "gateway, png heatmaps"
PATHS = (MODEL, GATEWAY_NONE, GATEWAY_PNG)


@dataclass(frozen=True)
class Settings:
    threads: int
    repeats: int
    calls: int        # timed calls per path and repeat (after one untimed call per path)


@dataclass
class Repeat:
    seconds: dict[str, list[float]]
    postprocess_s: list[float]         # the png requests' timings.postprocess_s

    def p50(self, path: str) -> float:
        return statistics.median(self.seconds[path])

    @property
    def share(self) -> float:
        return statistics.median(self.postprocess_s) / self.p50(GATEWAY_PNG)

    @property
    def ratio(self) -> float:
        return self.p50(GATEWAY_PNG) / self.p50(MODEL)


def a4_page() -> tuple[bytes, str, tuple[int, int]]:
    """The evaluation's first PDF page as PNG bytes, a query of its title's first words, its size."""
    from services.evaluation.locate import pdfpages

    pdf, _ = pdfpages.typeset(pdfpages.DEFAULT_SEED, 0)
    image, words = pdfpages.read_page(pdf)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    # the title: the words level with the page's topmost one, left to right (the text layer lists the
    # footnote's frame first)
    top = min(words, key=lambda word: word["box"][1])["box"]
    middle = (top[1] + top[3]) / 2
    title = sorted((w for w in words if w["box"][1] <= middle <= w["box"][3]), key=lambda word: word["box"][0])
    query = " ".join(word["text"] for word in title[:QUERY_WORDS])
    return buffer.getvalue(), query, image.size


def measure(pipeline, encode, http, page: bytes, query: str, settings: Settings) -> Repeat:
    import base64

    body = {"query": query, "image": base64.b64encode(page).decode()}

    def model() -> None:
        pipeline.run(page, query, encode)

    def gateway(heatmap_format: str):
        def call() -> float:
            response = http.post("/v1/text/locate", json={**body, "heatmap_format": heatmap_format})
            response.raise_for_status()
            return response.json()["timings"]["postprocess_s"]
        return call

    calls = {MODEL: model, GATEWAY_NONE: gateway("none"), GATEWAY_PNG: gateway("png")}
    for call in calls.values():
        call()                                   # untimed: caches, Triton's first batch
    seconds = {path: [] for path in PATHS}
    postprocess = []
    for _ in range(settings.calls):
        for path, call in calls.items():
            start = time.perf_counter()
            result = call()
            seconds[path].append(time.perf_counter() - start)
            if path == GATEWAY_PNG:
                postprocess.append(result)
    return Repeat(seconds, postprocess)


def report(repeats: list[Repeat], settings: Settings, facts: dict) -> tuple[str, dict[str, Summary]]:
    latency = {path: summarize(r.p50(path) for r in repeats) for path in PATHS}
    share = summarize(r.share for r in repeats)
    ratio = summarize(r.ratio for r in repeats)
    postprocess = summarize(statistics.median(r.postprocess_s) for r in repeats)
    lines = [
        f"Page: {facts['width']} x {facts['height']} pixels (A4 at 110 dpi), {facts['tiles']} tiles; query "
        f"\"{facts['query']}\" ({facts['tokens']} tokens, so {facts['tokens']} PNG heatmaps of at most "
        f"{facts['heatmap_side']} pixels a side). Checkpoint `{facts['checkpoint']}`; {settings.threads} intra-op "
        f"threads for the served encoder and the in-process one, one inter-op thread. {settings.repeats} repeats of "
        f"{settings.calls} alternating calls per path; per repeat the p50 of each path; shown: the median of the "
        f"repeats with their min-max.",
        "",
        "| path | p50 latency (s) |",
        "|---|---|",
        *[f"| {path} | {latency[path].format('', 3)} |" for path in PATHS],
        f"| gateway post-processing (its `timings.postprocess_s`, png) | {postprocess.format('', 3)} |",
        "",
        "| target | measured | goal | met |",
        "|---|---|---|---|",
        f"| post-processing share of the png request | {(share.median * 100):.1f}% "
        f"({share.low * 100:.1f}–{share.high * 100:.1f}%) | at most {TARGET_POSTPROCESS_SHARE:.0%} | "
        f"{yes_no(share.meets(TARGET_POSTPROCESS_SHARE, higher_is_better=False))} |",
        f"| png request / model | {ratio.format('x')} | at most {TARGET_REQUEST_OVER_MODEL}x | "
        f"{yes_no(ratio.meets(TARGET_REQUEST_OVER_MODEL, higher_is_better=False))} |",
        "",
        f"Versions: {facts['versions']}.",
        "",
        f"Command: `{facts['command']}`",
    ]
    return "\n".join(lines), latency


def plot(latency: dict[str, Summary], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    medians, spread = median_bars(latency[p] for p in PATHS)
    ax.barh(range(len(PATHS)), medians, xerr=spread, color=["#3b528b", "#21918c", "#5ec962"], capsize=4)
    ax.set_yticks(range(len(PATHS)), PATHS)
    ax.invert_yaxis()
    ax.set_xlabel("p50 latency, one-page A4 locate (s)")
    ax.set_title("median of repeats, whiskers min-max", fontsize=9)
    save(fig, path)


def parse_args(argv: list[str] | None) -> tuple[Settings, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="intra-op threads of the served and the in-process encoder (default: the cores "
                             "this process may use, %(default)s here)")
    parser.add_argument("--repeats", type=int, default=3, help="at least 3 (a median and a range)")
    parser.add_argument("--calls", type=int, default=5, help="timed calls per path and repeat")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="upstream-layout checkpoint (default: the served default, as `make eval-locate` "
                             "picks it: models/tokenfd-mini when it holds one, else the tiny fixture)")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="where benchmarks.md and img/ are")
    parser.add_argument("--write-docs", action="store_true",
                        help="replace this benchmark's block of <out>/benchmarks.md and its plot")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (a median and a range need them)")
    if args.threads < 1 or args.calls < 1:
        parser.error("--threads and --calls must be positive")
    return Settings(args.threads, args.repeats, args.calls), args


def main(argv: list[str] | None = None) -> int:
    settings, args = parse_args(argv)
    import importlib.metadata

    import httpx
    import tritonclient.grpc as grpcclient

    from gateway.settings import HEATMAP_MAX_SIDE
    from services.evaluation.locate.cli import default_checkpoint
    from services.models.tokenfd.artifacts import CPU_ONNX_FILE
    from services.models.tokenfd.export_onnx import export_artifacts
    from services.models.tokenfd.triton.encoder_runtime import EncoderRuntime
    from services.models.tokenfd.triton.locate import LocatePipeline
    from services.models.tokenfd.triton.repository import RepositoryOptions, build_repository
    from services.triton.launcher import TritonServer
    from tests.bench.bench_tokenfd import running_gateway

    checkpoint = args.checkpoint or default_checkpoint()
    if not checkpoint.is_dir():
        print(f"bench_locate: no checkpoint at {checkpoint} (make models builds the default)", file=sys.stderr)
        return 2
    page, query, size = a4_page()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="locate-bench-") as tmp:
        export = Path(tmp) / "export"
        print(f"exporting {checkpoint} and building the model repository ...", flush=True)
        export_artifacts(checkpoint, export)
        repository = build_repository("cpu", export, Path(tmp) / "repository",
                                      options=RepositoryOptions(ort_intra_op_threads=settings.threads))
        pipeline = LocatePipeline.from_directory(export)
        runtime = EncoderRuntime.from_file(export / CPU_ONNX_FILE, intra_op_threads=settings.threads,
                                           inter_op_threads=1)
        prepared = pipeline.prepare(page, query, None)
        repeats = []
        with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as triton, \
                running_gateway(triton.grpc_url) as base_url, \
                httpx.Client(base_url=base_url, timeout=300) as http, \
                contextlib.closing(grpcclient.InferenceServerClient(triton.grpc_url)) as grpc:
            tritonserver = f"tritonserver {grpc.get_server_metadata().version}"
            for index in range(settings.repeats):
                print(f"repeat {index + 1}/{settings.repeats} ({time.monotonic() - started:.0f} s)", flush=True)
                repeats.append(measure(pipeline, runtime.run, http, page, query, settings))
    found = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in ("onnxruntime", "numpy", "pillow"))
    facts = {"width": size[0], "height": size[1], "tiles": int(prepared.tiled.num_tiles), "query": query,
             "tokens": len(prepared.token_ids), "heatmap_side": HEATMAP_MAX_SIDE.get(), "checkpoint": checkpoint,
             "versions": f"python {platform.python_version()}, {found}, {tritonserver}",
             "command": "python -m tests.bench.bench_locate " + shlex.join(
                 [f"--threads={settings.threads}", f"--repeats={settings.repeats}", f"--calls={settings.calls}",
                  *([f"--checkpoint={args.checkpoint}"] if args.checkpoint else [])])}
    markdown, latency = report(repeats, settings, facts)
    print(markdown)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    if args.write_docs:
        stamp = f"{measured_on()}."
        doc = args.out / "benchmarks.md"
        doc.write_text(replace_block(doc.read_text(), DOCS_START, DOCS_END, f"{stamp}\n\n{markdown}"))
        plot(latency, args.out / "img" / "bench_locate.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
