"""Best of N's decode: N generations side by side against the same N in lockstep, one batch per step.

Best of N's samples share a figure and a prompt. Decoded side by side, as they were served until lockstep
came, each step of each one is a call of its own on the one ONNX Runtime session (the generation model's
worker threads). In lockstep, as they are served now (services/models/tokenvl/triton/lockstep.py), the
requests that share a prefill are the rows of one batch, one call per step for all N. This measures both on
CodePercept-mini's served decoder (models/codepercept-mini, exported as `make models` exports it), the
decoder alone; bench_codepercept_mini measures best of 4 end to end.

Per repeat, all after one PROMPT_TOKENS-token prompt (random token ids: the decoder's cost does not depend
on which; the N generations share its prefill, as served samples of one figure do), every sequence
--tokens steps, each in its own thread as the served model's workers are:
  - one generation alone (context: what a single sample costs);
  - N generations side by side, the session's default intra-op threads (one per core): the baseline;
  - the same with 1 intra-op thread per call (the session option that suits concurrent calls);
  - N generations in lockstep through the served code (`Decoder.join`); the bench fails if they did not
    all join one batch.
Greedy tokens throughout (sampling costs the same either way). Reported: seconds for the N x --tokens
tokens, the median over the repeats with its min-max, and each way's speed-up over the baseline.

Run: `python -m tests.bench.bench_decode_batching [--repeats K] [--samples N] [--tokens T] [--update-docs]`;
`--quick` is a smoke run (64 tokens, never written into the docs).
"""
from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from tests.bench.cli import bench_parser, measured_on, parse_checked
from tests.bench.stats import summarize

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "models" / "codepercept-mini"
DOCS = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "img" / "bench_decode_batching.png"
BLOCK = "bench-decode-batching"
HEADING = "## Best of N's decode: side by side or in lockstep (tests/bench/bench_decode_batching.py)"
PROMPT_TOKENS = 298    # CodePercept-mini's prompt: 256 image tokens and 42 of the template
WAYS = ("one alone", "N side by side (baseline)", "N side by side, 1 intra-op thread",
        "N in lockstep (served)")


def export_decoder(checkpoint: Path, scratch: Path) -> Path:
    """The served generation model's version directory, built as `make models` builds it."""
    from services.models.build_default import build_families
    from services.models.codepercept.family import GENERATION_MODEL

    built = build_families(scratch / "build", checkpoints={"codepercept": checkpoint}, only=("codepercept",),
                           log=lambda *_: None)
    return built.repository / GENERATION_MODEL / "1"


def decoder(directory: Path, intra_op_threads: int):
    from services.models.tokenvl.triton.decoder import Decoder

    made = Decoder.from_directory(directory, intra_op_threads=intra_op_threads)
    made.prefixes.capacity = 0   # nothing kept between runs: each run prefills, as for a new figure
    return made


def _prompt(decoder) -> np.ndarray:
    ids = np.random.default_rng(0).integers(100, decoder.vocab_size, PROMPT_TOKENS).tolist()
    return decoder.embed(ids, None, -1)


def one_generation(decoder, tokens: int) -> None:
    logits, cache = decoder.prefill(_prompt(decoder), capacity=PROMPT_TOKENS + tokens + 1)
    for _ in range(tokens):
        logits = decoder.step(int(np.argmax(logits)), cache)


def _threads(target, samples: int, *args) -> None:
    threads = [threading.Thread(target=target, args=args) for _ in range(samples)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def side_by_side(decoder, samples: int, tokens: int) -> None:
    _threads(one_generation, samples, decoder, tokens)


def in_lockstep(decoder, samples: int, tokens: int) -> None:
    """N threads, each a request decoding through `Decoder.join` as the served model's requests do."""
    rows, embeds = [], _prompt(decoder)

    def request() -> None:
        seat = decoder.join(embeds, capacity=PROMPT_TOKENS + tokens + 1)
        rows.append(seat.lockstep.rows)
        try:
            logits = seat.first_logits
            for _ in range(tokens):
                logits = seat.step(int(np.argmax(logits)))
        finally:
            seat.leave()

    _threads(request, samples)
    if rows != [samples] * samples:
        raise RuntimeError(f"the {samples} requests did not decode as one batch: rows {rows}")


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(directory: Path, repeats: int, samples: int, tokens: int) -> dict[str, list[float]]:
    default, single_thread = decoder(directory, 0), decoder(directory, 1)
    runs = {WAYS[0]: lambda: one_generation(default, tokens),
            WAYS[1]: lambda: side_by_side(default, samples, tokens),
            WAYS[2]: lambda: side_by_side(single_thread, samples, tokens),
            WAYS[3]: lambda: in_lockstep(default, samples, tokens)}
    for run in runs.values():   # warm: every kernel loaded, every buffer size seen once
        run()
    seconds: dict[str, list[float]] = {way: [] for way in WAYS}
    for number in range(repeats):
        print(f"repeat {number + 1}/{repeats} ...", file=sys.stderr)
        order = WAYS[number % len(WAYS):] + WAYS[:number % len(WAYS)]   # no way always runs first
        for way in order:
            seconds[way].append(timed(runs[way]))
    return seconds


def markdown(seconds: dict[str, list[float]], samples: int, tokens: int, threads_note: str) -> str:
    baseline = seconds[WAYS[1]]
    lines = [f"| way ({samples} samples of {tokens} tokens after a {PROMPT_TOKENS}-token prompt) | seconds, "
             "median (min–max) | tokens/s | speed-up over side by side |", "|---|---|---|---|"]
    for way in WAYS:
        values = seconds[way]
        count = tokens if way == WAYS[0] else samples * tokens
        speedup = summarize(b / v for b, v in zip(baseline, values, strict=True))
        lines.append(f"| {way.replace('N', str(samples))} | {summarize(values).format(' s')} | "
                     f"{count / summarize(values).median:.0f} | "
                     f"{'—' if way == WAYS[0] else speedup.format('x')} |")
    return "\n".join(lines + ["", f"Settings: CodePercept-mini's served decoder (ONNX Runtime, CPU); {threads_note}; "
                              f"greedy tokens. {measured_on()}; {len(baseline)} repeats, the ways in rotating "
                              "order. Reproduce: `.venv/bin/python -m tests.bench.bench_decode_batching "
                              "--update-docs`."])


def plot(seconds: dict[str, list[float]], samples: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from services.evaluation.docs_block import save_plot

    medians = [summarize(seconds[way]).median for way in WAYS]
    fig, axis = plt.subplots(figsize=(8, 3.2))
    axis.barh([way.replace("N", str(samples)) for way in WAYS], medians, color=["0.6", "tab:blue", "tab:orange",
                                                                               "tab:green"])
    axis.invert_yaxis()
    axis.set_xlabel("seconds, median of repeats")
    save_plot(fig, path, "best of N's decode on 2 cores")


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, quick="64 tokens")
    parser.add_argument("--checkpoint", type=Path, default=PUBLISHED)
    parser.add_argument("--samples", type=int, default=4, help="N: best of N's samples")
    parser.add_argument("--tokens", type=int, default=400, help="tokens of each sample (CodePercept-mini's "
                                                                "programs average about 470)")
    args = parse_checked(parser, argv)
    if not (args.checkpoint / "config.json").is_file():
        parser.error(f"needs a CodePercept-mini checkpoint in {args.checkpoint} (make publish-codepercept)")
    tokens = 64 if args.quick else args.tokens
    with tempfile.TemporaryDirectory(prefix="bench-decode-batching-") as scratch:
        directory = export_decoder(args.checkpoint, Path(scratch))
        meta = json.loads((directory / "decoder" / "genai_config.json").read_text())["model"]["decoder"]
        seconds = measure(directory, args.repeats, args.samples, tokens)
    note = (f"{meta['num_hidden_layers']} layers; the served session's default intra-op threads (one per core) "
            "unless the way says otherwise, 1 inter-op thread")
    table = markdown(seconds, args.samples, tokens, note)
    print(table)
    if args.update_docs:
        from services.evaluation.docs_block import write_block

        plot(seconds, args.samples, PLOT)
        write_block(DOCS, BLOCK, f"{HEADING}\n\n{table}\n\n![best of N's decode](img/{PLOT.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
