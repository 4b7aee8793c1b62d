"""TokenFD encoder benchmark: PyTorch eager, ONNX Runtime, Triton, and the gateway.

Everything is measured in one run on one machine, with the mid-size "bench" config
(seeded random weights: the numbers are about speed, never about quality). Ratios
are taken against baselines measured in the same run:

* ONNX Runtime vs PyTorch eager (the transformers-based reference);
* achieved GFLOP/s (analytic FLOPs of the graph / measured latency) vs the machine's
  measured fp32 matmul peak;
* gateway + Triton overhead vs in-process ONNX Runtime at batch 1.

Run: `make bench` or `python -m tests.bench.bench_tokenfd [--repeats N] [--out docs]`.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.triton import contract

BATCHES = (1, 4, 8)
QUERY_TOKENS = 4
TILE = contract.TILE_SIZE


@dataclass
class Measurement:
    path: str
    batch: int
    latencies_s: list[float] = field(default_factory=list)

    @property
    def p50_s(self) -> float:
        return statistics.median(self.latencies_s)

    @property
    def tiles_per_s(self) -> float:
        return self.batch / self.p50_s


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


def measure_matmul_peak(seconds: float = 3.0, n: int = 2048) -> float:
    """Best fp32 GFLOP/s of a large square matmul, by numpy (BLAS) and ONNX Runtime (MLAS)."""
    import onnxruntime as ort
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

    numpy_rate = best_rate(lambda: a @ b)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ort_rate = best_rate(lambda: session.run(None, {"a": a, "b": b}))
    return max(numpy_rate, ort_rate)


def _timed(fn, repeats: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _inputs(batch: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pixels = rng.standard_normal((batch, 3, TILE, TILE), dtype=np.float32)
    query = rng.standard_normal((batch, QUERY_TOKENS, dim), dtype=np.float32)
    return pixels, query


def bench_torch(checkpoint: Path, dim: int, repeats: int) -> list[Measurement]:
    import torch

    from services.models.tokenfd.reference import TokenFDReference

    torch.set_num_threads(os.cpu_count() or 1)
    reference = TokenFDReference.from_checkpoint(checkpoint)
    results = []
    for batch in BATCHES:
        pixels, query = _inputs(batch, dim)
        pixels_t, query_t = torch.from_numpy(pixels), torch.from_numpy(query)

        def run():
            with torch.inference_mode():
                reference.similarity(pixels_t, query_t)

        results.append(Measurement("PyTorch eager", batch, _timed(run, repeats)))
    return results


def bench_onnxruntime(onnx_path: Path, dim: int, repeats: int, label: str = "ONNX Runtime") -> list[Measurement]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    results = []
    for batch in BATCHES:
        pixels, query = _inputs(batch, dim)
        feeds = {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: query}
        results.append(Measurement(label, batch, _timed(lambda: session.run(None, feeds), repeats)))
    return results


def max_abs_deviation(reference_onnx: Path, other_onnx: Path, dim: int) -> float:
    import onnxruntime as ort

    pixels, query = _inputs(4, dim, seed=7)
    feeds = {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: query}
    outputs = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
               for path in (reference_onnx, other_onnx)]
    return float(np.abs(outputs[0] - outputs[1]).max())


def bench_triton(grpc_url: str, dim: int, repeats: int) -> list[Measurement]:
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(grpc_url)
    results = []
    for batch in BATCHES:
        pixels, query = _inputs(batch, dim)
        inputs = [grpcclient.InferInput(contract.ENC_PIXELS, list(pixels.shape), "FP32"),
                  grpcclient.InferInput(contract.ENC_QUERY, list(query.shape), "FP32")]
        inputs[0].set_data_from_numpy(pixels)
        inputs[1].set_data_from_numpy(query)
        outputs = [grpcclient.InferRequestedOutput(contract.ENC_SIMILARITY)]
        run = lambda: client.infer(contract.TOKENFD_ENCODER, inputs, outputs=outputs)  # noqa: E731
        results.append(Measurement("Triton (gRPC)", batch, _timed(run, repeats)))
    client.close()
    return results


def _tile_png(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(TILE, TILE, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def bench_gateway(base_url: str, repeats: int) -> list[Measurement]:
    """One-tile images; batch N = N concurrent requests, which Triton's dynamic batcher may group."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    body = {"query": "text", "image": base64.b64encode(_tile_png(1)).decode(), "heatmap_format": "none"}
    results = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        def one():
            response = client.post("/v1/text/locate", json=body)
            response.raise_for_status()

        for batch in BATCHES:
            if batch == 1:
                samples = _timed(one, repeats)
            else:
                with ThreadPoolExecutor(batch) as pool:
                    def burst():
                        list(pool.map(lambda _: one(), range(batch)))
                    samples = _timed(burst, repeats)
            results.append(Measurement("gateway + Triton", batch, samples))
    return results


def plot(measurements: list[Measurement], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = list(dict.fromkeys(m.path for m in measurements))
    fig, (ax_tput, ax_lat) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(paths)
    for i, path in enumerate(paths):
        rows = [m for m in measurements if m.path == path]
        xs = np.arange(len(rows)) + i * width
        ax_tput.bar(xs, [m.tiles_per_s for m in rows], width, label=path)
        ax_lat.bar(xs, [m.p50_s * 1000 for m in rows], width, label=path)
    for ax, title in ((ax_tput, "throughput (tiles/s, higher is better)"),
                      (ax_lat, "p50 latency per call (ms, lower is better)")):
        ax.set_xticks(np.arange(len(BATCHES)) + width * (len(paths) - 1) / 2)
        ax.set_xticklabels([f"batch {b}" for b in BATCHES])
        ax.set_title(title)
    ax_tput.legend(fontsize=8)
    fig.suptitle("TokenFD encoder, bench config (seeded weights), one machine, one run")
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    parser.add_argument("--write-docs", action="store_true",
                        help="replace the results block of docs/benchmarks.md with this run's")
    args = parser.parse_args(argv)

    from services.models.tokenfd.config import get_config
    from services.models.tokenfd.export_onnx import export_artifacts, quantize_int8
    from services.models.tokenfd.fixtures import build_tiny_checkpoint
    from services.triton.launcher import TritonServer
    from services.triton.repository import build_repository

    config = get_config("bench")
    dim = config.feature_dim
    with tempfile.TemporaryDirectory(prefix="tokenfd-bench-") as tmp:
        tmp_path = Path(tmp)
        print("building the bench checkpoint, ONNX export and model repository ...", flush=True)
        checkpoint = build_tiny_checkpoint(tmp_path / "checkpoint", seed=0, size="bench")
        export_artifacts(checkpoint, tmp_path / "export")
        repository = build_repository("cpu", tmp_path / "export", tmp_path / "repository")

        print("measuring the matmul peak ...", flush=True)
        peak_gflops = measure_matmul_peak()

        measurements: list[Measurement] = []
        print("PyTorch eager ...", flush=True)
        measurements += bench_torch(checkpoint, dim, args.repeats)
        print("ONNX Runtime ...", flush=True)
        onnx_path = tmp_path / "export" / "encoder.onnx"
        measurements += bench_onnxruntime(onnx_path, dim, args.repeats)
        print("ONNX Runtime int8 (dynamic quantisation) ...", flush=True)
        int8_path = quantize_int8(onnx_path, tmp_path / "encoder.int8.onnx")
        measurements += bench_onnxruntime(int8_path, dim, args.repeats, label="ONNX Runtime int8")
        int8_deviation = max_abs_deviation(onnx_path, int8_path, dim)

        with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as triton:
            print("Triton ...", flush=True)
            measurements += bench_triton(triton.grpc_url, dim, args.repeats)
            gateway_measurements, paired = _with_gateway(triton.grpc_url, args.repeats, onnx_path, dim)
            measurements += gateway_measurements

    flops = encoder_flops_per_tile(config.vision.hidden_size, config.vision.num_hidden_layers,
                                   config.vision.intermediate_size, dim, QUERY_TOKENS)
    report = summarise(measurements, flops, peak_gflops, paired)
    deviation_line = (f"- int8 dynamic quantisation: max abs deviation of the similarity maps from fp32 = "
                      f"{int8_deviation:.4f} (cosine units) on 4 random tiles")
    report["markdown"] += "\n" + deviation_line
    report["data"]["int8_max_abs_deviation"] = int8_deviation
    print(report["markdown"])
    plot(measurements, args.out / "img" / "bench_tokenfd.png")
    if args.json:
        args.json.write_text(json.dumps(report["data"], indent=2))
    if args.write_docs:
        write_docs_block(args.out / "benchmarks.md", report["markdown"])
    return 0


DOCS_START, DOCS_END = "<!-- bench-tokenfd:start -->", "<!-- bench-tokenfd:end -->"


def write_docs_block(path: Path, markdown: str) -> None:
    """Put this run's table between the markers, with when and where it was measured."""
    import platform
    import re

    stamp = (f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}.")
    text = path.read_text()
    block = f"{DOCS_START}\n{stamp}\n\n{markdown}\n{DOCS_END}"
    path.write_text(re.sub(re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END), lambda _: block, text, flags=re.S))


def paired_overhead(onnx_path: Path, base_url: str, dim: int, pairs: int) -> dict:
    """Gateway + Triton vs in-process ONNX Runtime at batch 1, measured alternately.

    Alternating A, B, A, B ... puts any other load on the machine on both sides alike,
    so the ratio of medians is the overhead, not the noise of two separate phases."""
    import httpx
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    pixels, query = _inputs(1, dim)
    feeds = {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: query}
    body = {"query": "text", "image": base64.b64encode(_tile_png(1)).decode(), "heatmap_format": "none"}
    in_process, through_gateway = [], []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        session.run(None, feeds)
        client.post("/v1/text/locate", json=body).raise_for_status()
        for _ in range(pairs):
            start = time.perf_counter()
            session.run(None, feeds)
            in_process.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.post("/v1/text/locate", json=body).raise_for_status()
            through_gateway.append(time.perf_counter() - start)
    return {"in_process_p50_s": statistics.median(in_process),
            "gateway_p50_s": statistics.median(through_gateway),
            "overhead": statistics.median(through_gateway) / statistics.median(in_process) - 1, "pairs": pairs}


def _with_gateway(triton_grpc_url: str, repeats: int, onnx_path: Path, dim: int
                  ) -> tuple[list[Measurement], dict]:
    """Start the real gateway as a subprocess in front of the running Triton."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PERCEPT_TRITON_URL": triton_grpc_url, "PERCEPT_GATEWAY_PORT": str(port),
           "PERCEPT_GATEWAY_HOST": "127.0.0.1"}
    process = subprocess.Popen([sys.executable, "-m", "gateway"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
                raise RuntimeError("the gateway did not become ready")
            time.sleep(0.3)
        print("gateway ...", flush=True)
        measurements = bench_gateway(base_url, repeats)
        print("gateway vs in-process ONNX Runtime, paired ...", flush=True)
        return measurements, paired_overhead(onnx_path, base_url, dim, pairs=max(9, 2 * repeats))
    finally:
        process.terminate()
        process.wait(timeout=30)


def summarise(measurements: list[Measurement], flops_per_tile: float, peak_gflops: float, paired: dict) -> dict:
    by_key = {(m.path, m.batch): m for m in measurements}
    rows = ["| path | batch | p50 latency (ms) | tiles/s | achieved GFLOP/s | % of matmul peak |",
            "|---|---|---|---|---|---|"]
    data = {"matmul_peak_gflops": peak_gflops, "flops_per_tile": flops_per_tile, "rows": []}
    for m in measurements:
        gflops = flops_per_tile * m.batch / m.p50_s / 1e9
        rows.append(f"| {m.path} | {m.batch} | {m.p50_s * 1000:.1f} | {m.tiles_per_s:.2f} | "
                    f"{gflops:.1f} | {100 * gflops / peak_gflops:.0f}% |")
        data["rows"].append({"path": m.path, "batch": m.batch, "p50_s": m.p50_s, "gflops": gflops,
                             "latencies_s": m.latencies_s})
    ratios = []
    for batch in BATCHES:
        ort_m, torch_m = by_key.get(("ONNX Runtime", batch)), by_key.get(("PyTorch eager", batch))
        if ort_m and torch_m:
            ratios.append(f"- ONNX Runtime vs PyTorch eager at batch {batch}: "
                          f"{torch_m.p50_s / ort_m.p50_s:.2f}x (target >= 1.2x)")
    best_ort = max((m for m in measurements if m.path == "ONNX Runtime"), key=lambda m: m.tiles_per_s)
    best_gflops = flops_per_tile * best_ort.tiles_per_s / 1e9
    ratios.append(f"- best ONNX Runtime achieved {best_gflops:.1f} GFLOP/s = "
                  f"{100 * best_gflops / peak_gflops:.0f}% of the measured matmul peak "
                  f"{peak_gflops:.1f} GFLOP/s (target >= 70%)")
    ratios.append(f"- gateway + Triton overhead at batch 1, measured in {paired['pairs']} alternating pairs: "
                  f"{1000 * paired['gateway_p50_s']:.1f} ms vs {1000 * paired['in_process_p50_s']:.1f} ms in-process "
                  f"= {100 * paired['overhead']:.1f}% (target <= 15%)")
    ratios.append("- int8 GFLOP/s count the same operations as fp32; the percentage against the fp32 matmul peak "
                  "is not a hardware efficiency above 100%")
    data["paired_overhead"] = paired
    data["ratios"] = ratios
    markdown = "\n".join(rows) + "\n\n" + "\n".join(ratios)
    return {"markdown": markdown, "data": data}


if __name__ == "__main__":
    sys.exit(main())
