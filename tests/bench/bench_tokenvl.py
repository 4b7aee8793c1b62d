"""TokenVL decode benchmark: the served torch-free decoder against transformers `generate`.

Same weights (the `bench` config's LLM, seeded, in the Llama layout), same run, same thread
count on every path. Each repeat runs every path in turn:

    transformers SDPA      LlamaForCausalLM.generate, attn_implementation="sdpa"  (the baseline)
    transformers eager     the same with "eager" attention                         (reference)
    runtime fp32           what tokenvl serves: the onnxruntime-genai builder's decoder graph driven
                           by services.models.tokenvl.triton.decoder.Decoder (numpy loop, KV cache)
    runtime int4 / int8    the same loop on int4 weights (builder -p int4, block-wise MatMulNBits) /
                           int8 weights (ONNX Runtime dynamic quantisation of the MatMuls)
    genai generator fp32   onnxruntime-genai's own Generator on the same graph with its embedding
                           table inside (input_ids), for the runtime choice (docs/tokenvl.md)

Measured per generation (greedy, no stop token, a prompt of --prompt-tokens random ids, --new-tokens
generated): time to first token (prefill + first token) and decode tokens/s after it; at
concurrency 4, four generations start together and the aggregate is all new tokens over the wall
time. Drift of int4/int8: greedy token agreement with fp32 over a fixed set of prompts.

    python -m tests.bench.bench_tokenvl                 # print the report
    python -m tests.bench.bench_tokenvl --write-docs    # and write its section of docs/benchmarks.md
"""
from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tests.bench.cli import measured_on
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import summarize, yes_no

BASELINE, EAGER = "transformers SDPA", "transformers eager"
FP32, INT4, INT8, GENAI = "runtime fp32", "runtime int4", "runtime int8", "genai generator fp32"
TARGET_SPEEDUP = 2.0
DRIFT_PROMPTS, DRIFT_TOKENS = 8, 32
DOCS_START, DOCS_END = "<!-- bench-tokenvl:start -->", "<!-- bench-tokenvl:end -->"


@dataclass(frozen=True)
class Settings:
    threads: int
    repeats: int
    prompt_tokens: int
    new_tokens: int
    size: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Measurement:
    path: str
    concurrency: int
    repeat: int
    ttft_s: float             # median over the concurrent generations
    decode_tok_s: float       # c=1: decode tokens/s after the first; c>1: all new tokens / wall time


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- the paths ------------------------------------------------------------------------

class TransformersPath:
    def __init__(self, model, attention: str) -> None:
        import copy

        self.model = copy.deepcopy(model) if attention != "sdpa" else model
        self.model.set_attn_implementation(attention)
        self.model.generation_config.eos_token_id = None
        self.model.generation_config.pad_token_id = 0

    def generate(self, ids: list[int], new_tokens: int) -> tuple[float, float, list[int]]:
        import torch
        from transformers.generation.streamers import BaseStreamer

        times: list[float] = []

        class Clock(BaseStreamer):
            def put(self, value):
                times.append(time.perf_counter())

            def end(self):
                pass

        start = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                      max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                      streamer=Clock())
        end = time.perf_counter()
        first = times[1]   # times[0]: the prompt handed to the streamer
        return first - start, (new_tokens - 1) / (end - first), out[0, len(ids):].tolist()


class RuntimePath:
    """The served Decoder: prefill once, then one token per step against the KV cache."""

    def __init__(self, decoder) -> None:
        self.decoder = decoder

    def generate(self, ids: list[int], new_tokens: int) -> tuple[float, float, list[int]]:
        start = time.perf_counter()
        logits, cache = self.decoder.prefill(self.decoder.embed(ids, None, -1), capacity=len(ids) + new_tokens)
        tokens = [int(np.argmax(logits))]
        first = time.perf_counter()
        while len(tokens) < new_tokens:
            tokens.append(int(np.argmax(self.decoder.step(tokens[-1], cache))))
        end = time.perf_counter()
        return first - start, (new_tokens - 1) / (end - first), tokens


class GenaiPath:
    def __init__(self, model_dir: Path) -> None:
        import onnxruntime_genai as og

        self.og = og
        self.model = og.Model(str(model_dir))

    def generate(self, ids: list[int], new_tokens: int) -> tuple[float, float, list[int]]:
        og = self.og
        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=len(ids) + new_tokens, min_length=len(ids) + new_tokens,
                                  do_sample=False)
        start = time.perf_counter()
        generator = og.Generator(self.model, params)
        generator.append_tokens(np.asarray([ids], dtype=np.int32))
        tokens, first = [], 0.0
        while not generator.is_done():
            generator.generate_next_token()
            tokens.append(int(generator.get_next_tokens()[0]))
            if len(tokens) == 1:
                first = time.perf_counter()
        end = time.perf_counter()
        return first - start, (len(tokens) - 1) / (end - first), tokens


# --- building the weights -------------------------------------------------------------

def build_paths(settings: Settings, workdir: Path, log=print) -> tuple[dict, int]:
    import torch

    from services.models.tokenvl.checkpoint import load_model
    from services.models.tokenvl.export import build_decoder, write_llama_directory
    from services.models.tokenvl.fixtures import build_tiny_checkpoint
    from services.models.tokenvl.tokens import Tokenizer
    from services.models.tokenvl.triton.decoder import Decoder, create_session

    torch.set_num_threads(settings.threads)
    torch.set_num_interop_threads(1)
    checkpoint = build_tiny_checkpoint(workdir / "checkpoint", seed=0, size=settings.size)
    model, config = load_model(checkpoint)
    tokenizer = Tokenizer.from_file(checkpoint / "tokenizer.json")
    llama = write_llama_directory(model, tokenizer, checkpoint / "tokenizer.json", workdir / "llama")
    embeddings = model.language_model.get_input_embeddings().weight.detach().numpy().copy()
    paths: dict[str, object] = {}
    if BASELINE in settings.paths:
        paths[BASELINE] = TransformersPath(model.language_model, "sdpa")
    if EAGER in settings.paths:
        paths[EAGER] = TransformersPath(model.language_model, "eager")
    for path, precision in ((FP32, "fp32"), (INT4, "int4"), (INT8, "int8")):
        if path in settings.paths:
            log(f"building the {precision} decoder ...")
            out = build_decoder(llama, workdir / precision, precision=precision)
            genai_config = json.loads((out / "genai_config.json").read_text())
            session = create_session(out / "model.onnx", intra_op_threads=settings.threads)
            paths[path] = RuntimePath(Decoder(session, embeddings, genai_config))
    if GENAI in settings.paths:
        log("building the genai generator's model (embeddings inside) ...")
        out = build_decoder_with_embeddings(llama, workdir / "genai", settings.threads)
        paths[GENAI] = GenaiPath(out)
    return paths, config.llm.vocab_size


def build_decoder_with_embeddings(llama: Path, out: Path, threads: int) -> Path:
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as cache:
        subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(llama), "-o", str(out),
                        "-p", "fp32", "-e", "cpu", "-c", cache], check=True, capture_output=True)
    config_path = out / "genai_config.json"
    genai_config = json.loads(config_path.read_text())
    genai_config["model"]["decoder"]["session_options"]["intra_op_num_threads"] = threads
    genai_config["model"]["decoder"]["session_options"]["inter_op_num_threads"] = 1
    config_path.write_text(json.dumps(genai_config))
    return out


# --- measuring ------------------------------------------------------------------------

def run_concurrent(path, prompts: list[list[int]], new_tokens: int) -> tuple[float, float, float]:
    """(median ttft, median decode tok/s, aggregate new tokens/s) of len(prompts) generations
    started together, each on its own thread. Concurrency 1 runs on a worker thread too, so every
    path and concurrency meets the same threading (OpenMP under load behaves differently on the
    main thread)."""
    results: list[tuple[float, float, list[int]]] = [None] * len(prompts)  # type: ignore[list-item]
    barrier = threading.Barrier(len(prompts))

    def one(index: int) -> None:
        barrier.wait()
        results[index] = path.generate(prompts[index], new_tokens)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return (float(np.median([r[0] for r in results])), float(np.median([r[1] for r in results])),
            len(prompts) * new_tokens / wall)


def measure(settings: Settings, paths: dict, vocab: int, log=print) -> list[Measurement]:
    rng = np.random.default_rng(0)
    prompts = [rng.integers(20, vocab, settings.prompt_tokens).tolist() for _ in range(4)]
    for path in paths.values():   # warm-up: kernels, allocator, thread pools
        path.generate(prompts[0][:32], 4)
    measurements = []
    for repeat in range(settings.repeats):
        for name, path in paths.items():
            ttft, decode, _ = run_concurrent(path, prompts[:1], settings.new_tokens)
            measurements.append(Measurement(name, 1, repeat, ttft, decode))
            ttft4, _, aggregate = run_concurrent(path, prompts, settings.new_tokens)
            measurements.append(Measurement(name, 4, repeat, ttft4, aggregate))
            log(f"repeat {repeat} {name}: ttft {1000 * ttft:.0f} ms, decode {decode:.1f} tok/s, "
                f"c4 {aggregate:.1f} tok/s")
    return measurements


def drift(paths: dict, vocab: int) -> dict[str, dict[str, float]]:
    """Greedy agreement with fp32 over a fixed prompt set: the share of the prefix before the
    first different token, and the share of equal positions."""
    if FP32 not in paths:
        return {}
    rng = np.random.default_rng(1)
    prompts = [rng.integers(20, vocab, 64).tolist() for _ in range(DRIFT_PROMPTS)]
    reference = [paths[FP32].generate(p, DRIFT_TOKENS)[2] for p in prompts]
    found = {}
    for name in (INT4, INT8):
        if name not in paths:
            continue
        prefix, equal = [], []
        for prompt, expected in zip(prompts, reference, strict=True):
            got = paths[name].generate(prompt, DRIFT_TOKENS)[2]
            same = [a == b for a, b in zip(got, expected, strict=True)]
            prefix.append((same.index(False) if False in same else len(same)) / DRIFT_TOKENS)
            equal.append(sum(same) / DRIFT_TOKENS)
        found[name] = {"prefix_agreement": float(np.mean(prefix)), "position_agreement": float(np.mean(equal))}
    return found


# --- the report -----------------------------------------------------------------------

def report(settings: Settings, measurements: list[Measurement], drifts: dict) -> str:
    def values(path, concurrency, field):
        return [getattr(m, field) for m in measurements if m.path == path and m.concurrency == concurrency]

    def ratio(path, concurrency, field="decode_tok_s"):
        base = {m.repeat: getattr(m, field) for m in measurements
                if m.path == BASELINE and m.concurrency == concurrency}
        return summarize(getattr(m, field) / base[m.repeat] for m in measurements
                         if m.path == path and m.concurrency == concurrency)

    paths = list(dict.fromkeys(m.path for m in measurements))
    rows = ["| path | TTFT c=1 (ms) | decode c=1 (tok/s) | vs SDPA c=1 | aggregate c=4 (tok/s) | vs SDPA c=4 | "
            "c=4 / c=1 |", "|---|---|---|---|---|---|---|"]
    for path in paths:
        scaling = summarize(a / b for a, b in zip(values(path, 4, "decode_tok_s"), values(path, 1, "decode_tok_s"),
                                                  strict=True))
        rows.append(f"| {path} | {summarize(1000 * v for v in values(path, 1, 'ttft_s')).format('', 0)} | "
                    f"{summarize(values(path, 1, 'decode_tok_s')).format('', 1)} | {ratio(path, 1).format('x')} | "
                    f"{summarize(values(path, 4, 'decode_tok_s')).format('', 1)} | {ratio(path, 4).format('x')} | "
                    f"{scaling.format('x')} |")
    targets = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for path in (FP32, INT4, INT8):
        if path in paths:
            s = ratio(path, 1)
            targets.append(f"| decode tok/s, {path} vs transformers SDPA, c=1 | {s.format('x')} | "
                           f">= {TARGET_SPEEDUP}x | {yes_no(s.meets(TARGET_SPEEDUP))} |")
    notes = [f"- drift of {name} against fp32 (greedy, {DRIFT_PROMPTS} fixed prompts of 64 ids, {DRIFT_TOKENS} "
             f"tokens): identical prefix {100 * d['prefix_agreement']:.0f}% of the tokens, equal positions "
             f"{100 * d['position_agreement']:.0f}%" for name, d in drifts.items()]
    notes.append(f"- threads: `torch.set_num_threads({settings.threads})`, interop 1; ONNX Runtime "
                 f"`intra_op_num_threads={settings.threads}`, inter-op 1, on every path (genai: in its "
                 "genai_config session options)")
    notes.append("- TTFT is prefill plus the first token; the weights are random (seeded), so the numbers are "
                 "speed only; the vocabulary is the fixture tokenizer's, so the LM head is small next to a real "
                 "92k-token one")
    header = (f"Settings: `{settings.size}` LLM config, prompt {settings.prompt_tokens} random ids, "
              f"{settings.new_tokens} new tokens, greedy without a stop token; {settings.repeats} repeats, each "
              f"running every path in turn; figures are median (min–max) over the repeats, ratios per repeat. "
              f"Reproduce: `python -m tests.bench.bench_tokenvl --write-docs`")
    return "\n\n".join([header, "\n".join(rows), "\n".join(targets), "\n".join(notes)])


def plot(measurements: list[Measurement], settings: Settings, out_png: Path) -> None:
    plt = pyplot()
    paths = list(dict.fromkeys(m.path for m in measurements))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, (concurrency, field, scale, title) in zip(axes, (
            (1, "ttft_s", 1000, "time to first token, c=1 (ms)"),
            (1, "decode_tok_s", 1, "decode tokens/s, c=1"),
            (4, "decode_tok_s", 1, "aggregate tokens/s, c=4")), strict=True):
        summaries = [summarize(scale * getattr(m, field) for m in measurements
                               if m.path == p and m.concurrency == concurrency) for p in paths]
        medians, errors = median_bars(summaries)
        ax.bar(range(len(paths)), medians, yerr=errors, capsize=3)
        ax.set_xticks(range(len(paths)))
        ax.set_xticklabels(paths, rotation=30, ha="right", fontsize=8)
        ax.set_title(title)
    fig.suptitle(f"TokenVL decoder, {settings.size} LLM (seeded), {settings.threads} threads on every path; "
                 f"median and min–max of {settings.repeats} repeats")
    save(fig, out_png, dpi=110)


def write_docs(docs: Path, markdown: str) -> None:
    """Replace this benchmark's block of benchmarks.md (appended under its own heading the first time)."""

    path = docs / "benchmarks.md"
    stamp = f"{measured_on()}."
    block = f"{DOCS_START}\n{stamp}\n\n{markdown}\n\n![TokenVL decode](img/bench_tokenvl.png)\n{DOCS_END}"
    text = path.read_text() if path.exists() else ""
    if DOCS_START in text:
        text = re.sub(re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## TokenVL decoding (tests/bench/bench_tokenvl.py)\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--size", default="bench", help="named TokenVL config ('tiny' for a smoke run)")
    parser.add_argument("--paths", nargs="+", default=[BASELINE, EAGER, FP32, INT4, INT8, GENAI])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if BASELINE not in args.paths:
        parser.error(f"the paths must include the baseline, {BASELINE!r}")
    settings = Settings(args.threads, args.repeats, args.prompt_tokens, args.new_tokens, args.size, tuple(args.paths))
    with tempfile.TemporaryDirectory(prefix="bench-tokenvl-") as workdir:
        paths, vocab = build_paths(settings, Path(workdir))
        measurements = measure(settings, paths, vocab)
        drifts = drift(paths, vocab)
    markdown = report(settings, measurements, drifts)
    print(markdown)
    if args.json:
        args.json.write_text(json.dumps({"settings": asdict(settings), "drift": drifts,
                                         "measurements": [asdict(m) for m in measurements]}, indent=2))
    if args.write_docs:
        plot(measurements, settings, args.out / "img" / "bench_tokenvl.png")
        write_docs(args.out, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
