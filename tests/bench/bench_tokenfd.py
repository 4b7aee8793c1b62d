"""TokenFD encoder benchmark: PyTorch (SDPA and eager attention), ONNX Runtime (fp32, int8), Triton, the gateway.

Everything is measured in one invocation on one machine, with the mid-size "bench" config
(seeded random weights: the numbers are about speed, never about quality). Ratios are
taken against baselines measured in the same invocation:

* ONNX Runtime fp32 vs PyTorch with SDPA attention, PyTorch's fastest stock attention
  (target >= 1.2x); PyTorch with eager attention is shown beside it. ONNX Runtime runs the
  graph the cpu target serves (encoder.cpu.onnx, services/models/tokenfd/cpu_encoder.py);
  the portable graph (encoder.onnx, what TensorRT reads) is shown beside it;
* achieved GFLOP/s (analytic FLOPs of the graph / measured latency) vs the machine's
  measured fp32 matmul peak (target >= 70%);
* gateway + Triton overhead vs in-process ONNX Runtime at batch 1 (target <= 15%).

Equal threads. Every path computes the encoder's one function (pixels + query embeddings
-> similarity maps; PyTorch runs modeling.SimilarityEncoder, ONNX Runtime its exports) with
the same intra-op thread count, `--threads` (default: the cores this process may run on), and one inter-op thread:
torch.set_num_threads / torch.set_num_interop_threads(1); ONNX Runtime sessions built
by the served encoder's own `create_session` (intra_op_num_threads, inter_op_num_threads
= 1, sequential execution, all graph optimisations; checked on each session); Triton's
encoder gets the same count through its model config (RepositoryOptions.ort_intra_op_threads).
The matmul peak is measured with the same threads.

Repeats. The whole set (matmul peak, every path at every batch, the paired gateway
overhead) runs k times in turn (`--repeats`, k >= 3). Each repeat gives one p50 per path
and batch, hence one value of each ratio; reported are the median and min-max over the
k repeats (tests/bench/stats.py), and a target is met only when the median meets it.

Run: `make bench` or `python -m tests.bench.bench_tokenfd [--threads N] [--repeats K] [--write-docs]`.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from services.models.tokenfd.triton import contract
from tests.bench.cli import measured_on
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import Summary, summarize, yes_no

DEFAULT_BATCHES = (1, 4)
QUERY_TOKENS = 4
TILE = contract.TILE_SIZE
PAIRS = 5              # alternating in-process / gateway calls per repeat
DEVIATION_TILES = 4    # random tiles on which the paths' outputs are compared

TORCH_SDPA, TORCH_EAGER = "PyTorch SDPA", "PyTorch eager"
ORT, ORT_INT8 = "ONNX Runtime", "ONNX Runtime int8"          # the cpu graph the cpu target serves
ORT_PORTABLE = "ONNX Runtime, portable graph"                 # encoder.onnx, TensorRT's input
TRITON, GATEWAY = "Triton (gRPC)", "gateway + Triton"

TARGET_SPEEDUP = 1.2        # ONNX Runtime fp32 vs PyTorch SDPA, at least
TARGET_PEAK_PERCENT = 70.0  # of the matmul peak, at least
TARGET_OVERHEAD_PERCENT = 15.0  # gateway + Triton over in-process, at most


@dataclass(frozen=True)
class Settings:
    threads: int
    repeats: int
    batches: tuple[int, ...]
    warmup: int       # untimed calls before the timed ones, per path, batch and repeat
    iters: int        # timed calls per path, batch and repeat (their median is that repeat's p50)
    size: str         # named TokenFD config


@dataclass
class Measurement:
    path: str
    batch: int
    repeat: int
    latencies_s: list[float] = field(default_factory=list)

    @property
    def p50_s(self) -> float:
        return statistics.median(self.latencies_s)

    @property
    def tiles_per_s(self) -> float:
        return self.batch / self.p50_s


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def encoder_flops_per_tile(hidden: int, layers: int, mlp: int, dim: int, tokens: int,
                           patch: int = 14, grid: int = 32) -> float:
    """Analytic FLOPs (multiply-add = 2) of one tile through the exported graph."""
    patches = grid * grid
    seq = patches + 1
    flops = 2.0 * patches * (3 * patch * patch) * hidden                     # patch embedding
    per_layer = (2.0 * seq * hidden * 3 * hidden                               # qkv
                 + 4.0 * seq * seq * hidden                                    # scores and weighted sum
                 + 2.0 * seq * hidden * hidden                                 # output projection
                 + 4.0 * seq * hidden * mlp)                                   # MLP
    flops += layers * per_layer
    half = hidden // 2
    flops += 2.0 * grid * grid * hidden * half * 16                            # ConvTranspose 32 -> 64
    flops += 2.0 * (2 * grid) ** 2 * half * hidden * 16                        # ConvTranspose 64 -> 128
    positions = (4 * grid) ** 2
    flops += 2.0 * positions * (hidden * dim + dim * dim)                      # ocr_mlp
    flops += 2.0 * positions * dim * tokens                                    # cosine similarity
    return flops


# --- equal threads ----------------------------------------------------------------------

def set_torch_threads(threads: int) -> None:
    """`threads` intra-op threads and one inter-op thread; before any torch work (torch refuses later)."""
    import torch

    torch.set_num_interop_threads(1)
    torch.set_num_threads(threads)


def ort_session(onnx_path: str | Path, threads: int):
    """An ONNX Runtime CPU session built as the served encoder builds its own, with `threads`
    intra-op threads, one inter-op thread and sequential execution (checked, not assumed)."""
    import onnxruntime as ort

    from services.models.tokenfd.triton.encoder_runtime import create_session

    session = create_session(onnx_path, intra_op_threads=threads, inter_op_threads=1)
    options = session.get_session_options()
    got = (options.intra_op_num_threads, options.inter_op_num_threads, options.execution_mode)
    if got != (threads, 1, ort.ExecutionMode.ORT_SEQUENTIAL):
        raise RuntimeError(f"ONNX Runtime session options {got} are not ({threads}, 1, sequential)")
    return session


def measure_matmul_peak(threads: int, workdir: Path, seconds: float = 1.0, n: int = 2048) -> dict[str, float]:
    """fp32 GFLOP/s of an n x n matmul: the best time over `seconds` of calls (after one
    untimed call), by torch.mm and by an ONNX Runtime MatMul, both with `threads`
    intra-op threads. The peak is the faster of the two."""
    import onnx
    import torch
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n ** 3

    def best_rate(fn) -> float:
        fn()
        best = float("inf")
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return flops / best / 1e9

    a_t, b_t = torch.from_numpy(a), torch.from_numpy(b)
    with torch.inference_mode():
        torch_rate = best_rate(lambda: torch.mm(a_t, b_t))
    path = workdir / f"matmul{n}.onnx"
    if not path.exists():
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul",
            [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]),
             helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
            [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    session = ort_session(path, threads)
    ort_rate = best_rate(lambda: session.run(None, {"a": a, "b": b}))
    return {"torch": torch_rate, "onnxruntime": ort_rate, "peak": max(torch_rate, ort_rate)}


# --- the paths --------------------------------------------------------------------------

def _timed(fn, settings: Settings) -> list[float]:
    for _ in range(settings.warmup):
        fn()
    samples = []
    for _ in range(settings.iters):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _inputs(batch: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pixels = rng.standard_normal((batch, 3, TILE, TILE), dtype=np.float32)
    query = rng.standard_normal((batch, QUERY_TOKENS, dim), dtype=np.float32)
    return pixels, query


def load_torch_encoder(checkpoint: Path):
    """The module the portable graph is exported from (SimilarityEncoder of the checkpoint's TokenFDModel), in
    eval mode. The cpu graph ONNX Runtime serves computes the same function (its parity is tested)."""
    from services.models.tokenfd import checkpoint as ckpt
    from services.models.tokenfd.modeling import SimilarityEncoder

    model, _ = ckpt.load_model(checkpoint)
    return SimilarityEncoder(model).eval()


def set_attention(encoder, implementation: str) -> None:
    """Switch the ViT's transformers attention ("sdpa" or "eager") and check every layer uses it."""
    vit = encoder.vision_model
    vit.set_attn_implementation(implementation)
    used = {layer.attention.config._attn_implementation for layer in vit.encoder.layer}
    if used != {implementation}:
        raise RuntimeError(f"attention implementation {used}, wanted {implementation!r}")


def run_torch(encoder, pixels: np.ndarray, query: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return encoder(torch.from_numpy(pixels), torch.from_numpy(query)).numpy()


def bench_torch(encoder, implementation: str, label: str, dim: int, settings: Settings,
                repeat: int) -> list[Measurement]:
    set_attention(encoder, implementation)
    results = []
    for batch in settings.batches:
        pixels, query = _inputs(batch, dim)
        timed = _timed(lambda pixels=pixels, query=query: run_torch(encoder, pixels, query), settings)
        results.append(Measurement(label, batch, repeat, timed))
    return results


def _feeds(pixels: np.ndarray, query: np.ndarray) -> dict[str, np.ndarray]:
    return {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: query}


def bench_onnxruntime(session, label: str, dim: int, settings: Settings, repeat: int) -> list[Measurement]:
    results = []
    for batch in settings.batches:
        feeds = _feeds(*_inputs(batch, dim))
        timed = _timed(lambda feeds=feeds: session.run(None, feeds), settings)
        results.append(Measurement(label, batch, repeat, timed))
    return results


def max_abs_deviations(encoder, sessions: dict[str, object], dim: int) -> dict[str, float]:
    """Max |difference| of each path's similarity maps from ONNX Runtime fp32's, on the same random tiles."""
    pixels, query = _inputs(DEVIATION_TILES, dim, seed=7)
    reference = sessions[ORT].run(None, _feeds(pixels, query))[0]
    outputs = {label: sessions[label].run(None, _feeds(pixels, query))[0] for label in (ORT_PORTABLE, ORT_INT8)}
    for implementation, label in (("sdpa", TORCH_SDPA), ("eager", TORCH_EAGER)):
        set_attention(encoder, implementation)
        outputs[label] = run_torch(encoder, pixels, query)
    return {label: float(np.abs(output - reference).max()) for label, output in outputs.items()}


def bench_triton(client, dim: int, settings: Settings, repeat: int) -> list[Measurement]:
    import tritonclient.grpc as grpcclient

    results = []
    for batch in settings.batches:
        pixels, query = _inputs(batch, dim)
        inputs = [grpcclient.InferInput(contract.ENC_PIXELS, list(pixels.shape), "FP32"),
                  grpcclient.InferInput(contract.ENC_QUERY, list(query.shape), "FP32")]
        inputs[0].set_data_from_numpy(pixels)
        inputs[1].set_data_from_numpy(query)
        outputs = [grpcclient.InferRequestedOutput(contract.ENC_SIMILARITY)]
        run = partial(client.infer, contract.TOKENFD_ENCODER, inputs, outputs=outputs)
        results.append(Measurement(TRITON, batch, repeat, _timed(run, settings)))
    return results


def _tile_png(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(TILE, TILE, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _locate_body() -> dict:
    return {"query": "text", "image": base64.b64encode(_tile_png(1)).decode(), "heatmap_format": "none"}


def bench_gateway(client, settings: Settings, repeat: int) -> list[Measurement]:
    """One-tile images; batch N = N concurrent requests, which Triton's dynamic batcher may group."""
    from concurrent.futures import ThreadPoolExecutor

    body = _locate_body()

    def one():
        client.post("/v1/text/locate", json=body).raise_for_status()

    results = []
    for batch in settings.batches:
        if batch == 1:
            samples = _timed(one, settings)
        else:
            with ThreadPoolExecutor(batch) as pool:
                samples = _timed(lambda batch=batch: list(pool.map(lambda _: one(), range(batch))), settings)
        results.append(Measurement(GATEWAY, batch, repeat, samples))
    return results


def paired_overhead(session, client, dim: int, pairs: int) -> dict:
    """Gateway + Triton vs in-process ONNX Runtime at batch 1, measured alternately.

    Alternating A, B, A, B ... puts any other load on the machine on both sides alike,
    so the ratio of medians is the overhead, not the noise of two separate phases."""
    feeds = _feeds(*_inputs(1, dim))
    body = _locate_body()
    in_process, through_gateway = [], []
    session.run(None, feeds)
    client.post("/v1/text/locate", json=body).raise_for_status()
    for _ in range(pairs):
        start = time.perf_counter()
        session.run(None, feeds)
        in_process.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.post("/v1/text/locate", json=body).raise_for_status()
        through_gateway.append(time.perf_counter() - start)
    in_p50, gateway_p50 = statistics.median(in_process), statistics.median(through_gateway)
    return {"in_process_p50_s": in_p50, "gateway_p50_s": gateway_p50, "overhead": gateway_p50 / in_p50 - 1,
            "pairs": pairs}


@contextlib.contextmanager
def running_gateway(triton_grpc_url: str):
    """The real gateway as a subprocess in front of the running Triton; yields its base URL."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PERCEPT_GATEWAY_TRITON_URL": triton_grpc_url, "PERCEPT_GATEWAY_PORT": str(port),
           "PERCEPT_GATEWAY_HOST": "127.0.0.1"}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "gateway"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"the gateway did not become ready; its stderr ends:\n{tail}")
            time.sleep(0.3)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


# --- the report -------------------------------------------------------------------------

def versions(triton_client=None) -> dict[str, str]:
    import importlib.metadata
    import platform

    found = {"python": platform.python_version()}
    for package in ("torch", "transformers", "onnxruntime", "numpy"):
        found[package] = importlib.metadata.version(package)
    if triton_client is not None:
        found["tritonserver"] = triton_client.get_server_metadata().version
    return found


def check_served_threads(client, threads: int) -> None:
    """The served encoder's model config must carry the same intra-op thread count."""
    config = client.get_model_config(contract.TOKENFD_ENCODER, as_json=True)["config"]
    served = config.get("parameters", {}).get("intra_op_threads", {}).get("string_value")
    if served != str(threads):
        raise RuntimeError(f"{contract.TOKENFD_ENCODER} serves with intra_op_threads={served}, not {threads}")


def reproduce_command(settings: Settings) -> str:
    args = ["--threads", settings.threads, "--repeats", settings.repeats, "--batches", *settings.batches,
            "--warmup", settings.warmup, "--iters", settings.iters]
    if settings.size != "bench":
        args += ["--size", settings.size]
    return shlex.join([".venv/bin/python", "-m", "tests.bench.bench_tokenfd", *map(str, args), "--write-docs"])


def summarise(measurements: list[Measurement], peaks: list[dict], paired: list[dict], flops_per_tile: float,
              deviations: dict[str, float], settings: Settings, found_versions: dict[str, str]) -> dict:
    """Markdown (settings, the per-path table, the targets table, notes) and the raw data."""
    p50 = {(m.path, m.batch, m.repeat): m.p50_s for m in measurements}
    repeats = range(settings.repeats)
    paths = list(dict.fromkeys(m.path for m in measurements))
    peak = [p["peak"] for p in peaks]

    def per_repeat(path: str, batch: int, fn) -> Summary:
        return summarize(fn(p50[path, batch, r], r) for r in repeats)

    def speedup(slow: str, fast: str, batch: int) -> Summary:
        return summarize(p50[slow, batch, r] / p50[fast, batch, r] for r in repeats)

    def gflops(latency_s: float, batch: int) -> float:
        return flops_per_tile * batch / latency_s / 1e9

    t = settings.threads
    threads_of = {TRITON: f"{t} / 1 (served encoder)", GATEWAY: f"{t} / 1 (served encoder)"}
    rows = ["| path | threads (intra-op / inter-op) | batch | p50 latency (ms) | tiles/s | achieved GFLOP/s "
            "| % of matmul peak |", "|---|---|---|---|---|---|---|"]
    table_data = []
    for path in paths:
        for batch in settings.batches:
            latency = per_repeat(path, batch, lambda s, r: 1000 * s)
            tiles = per_repeat(path, batch, lambda s, r, batch=batch: batch / s)
            rate = per_repeat(path, batch, lambda s, r, batch=batch: gflops(s, batch))
            percent = per_repeat(path, batch, lambda s, r, batch=batch: 100 * gflops(s, batch) / peak[r])
            rows.append(f"| {path} | {threads_of.get(path, f'{t} / 1')} | {batch} | {latency.format('', 1)} | "
                        f"{tiles.format('', 2)} | {rate.format('', 1)} | {percent.format('%', 0)} |")
            table_data.append({"path": path, "batch": batch, **{name: asdict(s) for name, s in (
                ("latency_ms", latency), ("tiles_per_s", tiles), ("gflops", rate), ("percent_of_peak", percent))}})

    targets = ["| measured (one value per repeat) | median (min–max) | target | met (median) |", "|---|---|---|---|"]
    target_data = []

    def target(name: str, summary: Summary, unit: str, digits: int, goal: str, met: bool | None) -> None:
        targets.append(f"| {name} | {summary.format(unit, digits)} | {goal} | "
                       f"{'–' if met is None else yes_no(met)} |")
        target_data.append({"name": name, **asdict(summary), "target": goal, "met": met})

    for batch in settings.batches:
        s = speedup(TORCH_SDPA, ORT, batch)
        target(f"ONNX Runtime vs PyTorch SDPA speed, batch {batch}", s, "x", 2,
               f">= {TARGET_SPEEDUP}x", s.meets(TARGET_SPEEDUP))
    for batch in settings.batches:
        s = per_repeat(ORT, batch, lambda v, r, batch=batch: 100 * gflops(v, batch) / peak[r])
        target(f"ONNX Runtime % of matmul peak, batch {batch}", s, "%", 0,
               f">= {TARGET_PEAK_PERCENT:.0f}%", s.meets(TARGET_PEAK_PERCENT))
    s = summarize(100 * p["overhead"] for p in paired)
    target(f"gateway + Triton overhead over in-process ONNX Runtime, batch 1 ({PAIRS} alternating pairs)", s,
           "%", 1, f"<= {TARGET_OVERHEAD_PERCENT:.0f}%", s.meets(TARGET_OVERHEAD_PERCENT, higher_is_better=False))
    for batch in settings.batches:
        target(f"ONNX Runtime vs PyTorch eager speed, batch {batch}", speedup(TORCH_EAGER, ORT, batch),
               "x", 2, "(reference)", None)
    for batch in settings.batches:
        target(f"ONNX Runtime (cpu graph) vs its portable graph, batch {batch}", speedup(ORT_PORTABLE, ORT, batch),
               "x", 2, "(reference)", None)
    for batch in settings.batches:
        target(f"PyTorch SDPA vs PyTorch eager speed, batch {batch}", speedup(TORCH_EAGER, TORCH_SDPA, batch),
               "x", 2, "(reference)", None)
    for batch in settings.batches:
        target(f"ONNX Runtime int8 vs fp32 speed, batch {batch}", speedup(ORT, ORT_INT8, batch),
               "x", 2, "(reference)", None)

    peak_summary = summarize(peak)
    torch_peak, ort_peak = summarize(p["torch"] for p in peaks), summarize(p["onnxruntime"] for p in peaks)
    batches = ", ".join(map(str, settings.batches))
    header = [
        f"Settings: `{settings.size}` config, batches {batches} (tiles per call); per repeat, path and batch "
        f"{settings.warmup} warm-up + {settings.iters} timed calls, whose median is that repeat's p50; "
        f"{settings.repeats} repeats, each running every path in turn. Figures are the median (min–max) over "
        f"the repeats. Threads: {t} intra-op, 1 inter-op, sequential execution, on every path.",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in found_versions.items()) + ".",
        f"Reproduce: `{reproduce_command(settings)}`",
    ]
    notes = [
        f"- matmul peak: {peak_summary.format(' GFLOP/s', 1)}, per repeat the best time of a 2048 x 2048 fp32 "
        f"matmul over 1 s of calls by torch.mm and by an ONNX Runtime MatMul, whichever is faster, with the same "
        f"{t} threads (torch.mm {torch_peak.format('', 1)}, ONNX Runtime {ort_peak.format('', 1)})",
        f"- threads: PyTorch `torch.set_num_threads({t})`, `torch.set_num_interop_threads(1)`; ONNX Runtime "
        f"`intra_op_num_threads={t}`, `inter_op_num_threads=1`, `ORT_SEQUENTIAL` (sessions made by the served "
        f"encoder's `create_session`); Triton's `tokenfd_encoder` runs that same session in its python-backend "
        f"stub with `intra_op_threads={t}` set in its model config. Not bounded by `--threads`: tritonserver's "
        f"own threads, `tokenfd_locate` and the gateway (image decode, tiling, tokenizer) in their processes",
        "- PyTorch runs the module the portable graph is exported from (`SimilarityEncoder`), fp32, `inference_mode`; "
        "attention switched with transformers' `set_attn_implementation` (\"sdpa\": "
        "`torch.nn.functional.scaled_dot_product_attention`; \"eager\": matmul, softmax, matmul)",
        "- max abs deviation of the similarity maps from ONNX Runtime fp32 (cosine units) on "
        f"{DEVIATION_TILES} random tiles: " + ", ".join(f"{label} {value:.2g}" for label, value in deviations.items()),
        "- ONNX Runtime runs the cpu graph the cpu target serves (`encoder.cpu.onnx`, "
        "`services/models/tokenfd/cpu_encoder.py`: the same function, with ONNX's fused Attention operator, each "
        "transposed convolution as four sub-pixel convolutions, the head run per output phase, tiles one at a "
        "time in an ONNX Loop); "
        "\"portable graph\" is `encoder.onnx` (opset 18, what TensorRT reads) in the same session settings",
        "- int8 is dynamic quantisation of the cpu graph's MatMul weights; its GFLOP/s count the same operations as "
        "fp32, so its percentage of the fp32 matmul peak is not a hardware efficiency",
    ]
    markdown = "\n\n".join(header) + "\n\n" + "\n".join(rows) + "\n\n" + "\n".join(targets) + "\n\n" + "\n".join(notes)
    data = {"settings": asdict(settings), "versions": found_versions, "flops_per_tile": flops_per_tile,
            "matmul_peaks_gflops": peaks, "paired_overhead": paired, "deviations": deviations,
            "table": table_data, "targets": target_data,
            "measurements": [asdict(m) | {"p50_s": m.p50_s} for m in measurements]}
    return {"markdown": markdown, "data": data}


def plot(measurements: list[Measurement], settings: Settings, out_png: Path) -> None:
    """Throughput and p50 latency per path and batch: bars at the median over the repeats,
    error bars from the lowest to the highest repeat."""
    plt = pyplot()
    paths = list(dict.fromkeys(m.path for m in measurements))
    fig, (ax_tput, ax_lat) = plt.subplots(1, 2, figsize=(12, 4.2))
    width = 0.8 / len(paths)
    for i, path in enumerate(paths):
        xs = np.arange(len(settings.batches)) + i * width
        for ax, value in ((ax_tput, lambda m: m.tiles_per_s), (ax_lat, lambda m: 1000 * m.p50_s)):
            summaries = [summarize(value(m) for m in measurements if m.path == path and m.batch == batch)
                         for batch in settings.batches]
            medians, errors = median_bars(summaries)
            ax.bar(xs, medians, width, yerr=errors, capsize=3, label=path)
    for ax, title in ((ax_tput, "throughput (tiles/s, higher is better)"),
                      (ax_lat, "p50 latency per call (ms, lower is better)")):
        ax.set_xticks(np.arange(len(settings.batches)) + width * (len(paths) - 1) / 2)
        ax.set_xticklabels([f"batch {b}" for b in settings.batches])
        ax.set_title(title)
    ax_tput.legend(fontsize=8)
    fig.suptitle(f"TokenFD encoder, {settings.size} config (seeded weights), {settings.threads} threads on every "
                 f"path; median and min–max of {settings.repeats} repeats")
    save(fig, out_png, dpi=110)


DOCS_START, DOCS_END = "<!-- bench-tokenfd:start -->", "<!-- bench-tokenfd:end -->"


def write_docs_block(path: Path, markdown: str) -> None:
    """Put this run's report between the markers, with when and where it was measured."""
    import re

    stamp = f"{measured_on()}."
    text = path.read_text()
    block = f"{DOCS_START}\n{stamp}\n\n{markdown}\n{DOCS_END}"
    path.write_text(re.sub(re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END), lambda _: block, text, flags=re.S))


def parse_args(argv: list[str] | None) -> tuple[Settings, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="intra-op threads of every path (default: the cores this process may use, "
                             "%(default)s here)")
    parser.add_argument("--repeats", type=int, default=3, help="k, runs of the whole set (at least 3)")
    parser.add_argument("--batches", type=int, nargs="+", default=list(DEFAULT_BATCHES), help="tiles per call")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per path, batch and repeat")
    parser.add_argument("--iters", type=int, default=3, help="timed calls per path, batch and repeat")
    parser.add_argument("--size", default="bench", help="named TokenFD config ('tiny' for a quick smoke run)")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="where benchmarks.md and img/ are")
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    parser.add_argument("--write-docs", action="store_true",
                        help="replace the results block of <out>/benchmarks.md with this run's")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (a median and a range need them)")
    if args.threads < 1 or args.iters < 1 or args.warmup < 0 or min(args.batches) < 1:
        parser.error("--threads, --iters and --batches must be positive, --warmup not negative")
    settings = Settings(threads=args.threads, repeats=args.repeats, batches=tuple(args.batches),
                        warmup=args.warmup, iters=args.iters, size=args.size)
    return settings, args


def main(argv: list[str] | None = None) -> int:
    settings, args = parse_args(argv)
    set_torch_threads(settings.threads)   # first: torch refuses the inter-op count once it has worked

    import httpx
    import tritonclient.grpc as grpcclient

    from services.models.tokenfd.artifacts import CPU_ONNX_FILE, ONNX_FILE
    from services.models.tokenfd.config import get_config
    from services.models.tokenfd.export_onnx import export_artifacts, quantize_int8
    from services.models.tokenfd.fixtures import build_tiny_checkpoint
    from services.models.tokenfd.triton.repository import RepositoryOptions, build_repository
    from services.triton.launcher import TritonServer

    config = get_config(settings.size)
    dim = config.feature_dim
    started = time.monotonic()
    measurements: list[Measurement] = []
    peaks: list[dict] = []
    paired: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tokenfd-bench-") as tmp:
        tmp_path = Path(tmp)
        print(f"building the {settings.size} checkpoint, ONNX export, int8 variant and model repository ...",
              flush=True)
        checkpoint = build_tiny_checkpoint(tmp_path / "checkpoint", seed=0, size=settings.size)
        export_artifacts(checkpoint, tmp_path / "export")
        onnx_path = tmp_path / "export" / CPU_ONNX_FILE
        int8_path = quantize_int8(onnx_path, tmp_path / "encoder.cpu.int8.onnx")
        repository = build_repository("cpu", tmp_path / "export", tmp_path / "repository",
                                      options=RepositoryOptions(ort_intra_op_threads=settings.threads))
        encoder = load_torch_encoder(checkpoint)
        sessions = {ORT: ort_session(onnx_path, settings.threads), ORT_INT8: ort_session(int8_path, settings.threads),
                    ORT_PORTABLE: ort_session(tmp_path / "export" / ONNX_FILE, settings.threads)}
        deviations = max_abs_deviations(encoder, sessions, dim)

        with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as triton, \
                running_gateway(triton.grpc_url) as base_url, \
                httpx.Client(base_url=base_url, timeout=120) as http, \
                contextlib.closing(grpcclient.InferenceServerClient(triton.grpc_url)) as grpc:
            check_served_threads(grpc, settings.threads)
            found_versions = versions(grpc)
            for repeat in range(settings.repeats):
                print(f"repeat {repeat + 1}/{settings.repeats} ({time.monotonic() - started:.0f} s): matmul peak, "
                      f"{TORCH_SDPA}, {TORCH_EAGER}, {ORT}, {ORT_PORTABLE}, {ORT_INT8}, {TRITON}, {GATEWAY}, "
                      f"paired overhead",
                      flush=True)
                peaks.append(measure_matmul_peak(settings.threads, tmp_path))
                measurements += bench_torch(encoder, "sdpa", TORCH_SDPA, dim, settings, repeat)
                measurements += bench_torch(encoder, "eager", TORCH_EAGER, dim, settings, repeat)
                measurements += bench_onnxruntime(sessions[ORT], ORT, dim, settings, repeat)
                measurements += bench_onnxruntime(sessions[ORT_PORTABLE], ORT_PORTABLE, dim, settings, repeat)
                measurements += bench_onnxruntime(sessions[ORT_INT8], ORT_INT8, dim, settings, repeat)
                measurements += bench_triton(grpc, dim, settings, repeat)
                measurements += bench_gateway(http, settings, repeat)
                paired.append(paired_overhead(sessions[ORT], http, dim, PAIRS))

    flops = encoder_flops_per_tile(config.vision.hidden_size, config.vision.num_hidden_layers,
                                   config.vision.intermediate_size, dim, QUERY_TOKENS)
    report = summarise(measurements, peaks, paired, flops, deviations, settings, found_versions)
    print(report["markdown"])
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    plot(measurements, settings, args.out / "img" / "bench_tokenfd.png")
    if args.json:
        args.json.write_text(json.dumps(report["data"], indent=2))
    if args.write_docs:
        write_docs_block(args.out / "benchmarks.md", report["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
