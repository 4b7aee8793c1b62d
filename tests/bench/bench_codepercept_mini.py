"""CodePercept-mini served: decode speed against PyTorch, and image-to-code time per figure through the gateway.

Real processes, started here, on the published checkpoint (models/codepercept-mini, or --checkpoint) and
its retrieval index: a tritonserver serving it as `make models` builds it (the `codepercept` family), a
`percept-sandbox serve` (2 workers), one code-perception service per backend measured, each behind its
own gateway (one uvicorn worker). The figures are held-out engine programs (corpus seed 1, which neither
the model nor the index was built from), one per family in the engine's order, rendered by that sandbox
at 100 dpi.

  (1) Decode at batch 1: the served `codepercept` model (the torch-free decoder behind the generation
      contract, streamed over gRPC) against transformers `generate` on the same checkpoint (PyTorch, KV
      cache; TokenVL's reference), same threads, same prompt: the figure with the code question, as the
      model was trained. Greedy, at most --max-tokens new tokens, both stopping at the same stop token.
      Timed: tokens after the first over the time after it (time to first token apart). One value per
      repeat: served tok/s, PyTorch tok/s and their ratio. Target: served >= 200 tok/s.
  (2) Image-to-code through the gateway, wall time per call, one call at a time: `retrieval` (its 4
      nearest programs rendered and scored: the baseline), the model's best of 4 samples (`triton`
      backend, candidates 4, temperature 0.7), the default (`verified`: 4 retrieved + 1 sample, the best
      refined with the backend's default budget of renders) and the same without its refinement
      (`refine_renders` 0: what the refinement costs, in the same run). The four alternate figure by
      figure, the order rotating every round. One value per repeat: each
      configuration's median seconds per figure and its ratio to retrieval. Target: the model's best of
      4 <= 3 s per figure on 2 cores. Where the best of 4's time goes, from each response's own timings:
      the service's total, its slowest candidate (generation, then render and score: the path the answer
      waits on, the 4 starting together), the service's time around that path (the vision pass and prefill
      inside the first generation excepted: the generation's own), and the gateway and the wire's (the
      call less the service's total). One value per repeat: each part's median over the calls.

Every call sends a figure the served model has not seen: the generation model keeps recent images' visual
tokens and prompts' prefills (services/triton/shared_results.py), which would answer a figure sent again
without its vision pass and prefill. So each call's figure gets a 4x4 corner of its own colour (`unseen`);
the 4 samples of one best-of-4 call still share theirs, as they do for any new figure.

Repeats: the whole set runs k times (`--repeats`, k >= 3); the report shows each value's median with its
min-max (tests/bench/stats.py), and a target is met only when the median meets it.

Run: `python -m tests.bench.bench_codepercept_mini [--repeats K] [--figures N] [--update-docs]`; `--quick`
is a smoke run on 2 figures (never written into the docs). It prints a markdown table, writes
docs/img/bench_codepercept_mini.png and, with --update-docs, writes its block of docs/benchmarks.md
("CodePercept-mini served"; appended the first time).
"""
from __future__ import annotations

import asyncio
import base64
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, aclosing
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.codeperception.backends.registry import VERIFIED_REFINE_RENDERS
from tests.bench.cli import bench_parser, measured_on, parse_checked
from tests.bench.plots import median_bars, pyplot, save
from tests.bench.stats import summarize, yes_no
from tests.integration.gateway.stem_support import CodePerceptionProcess
from tests.integration.gateway.support import running_gateway
from tests.sandbox.harness import SandboxServer

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "benchmarks.md"
PLOT = REPO / "docs" / "img" / "bench_codepercept_mini.png"
BLOCK = "bench-codepercept-mini"   # its block of docs/benchmarks.md, appended the first time
HEADING = "## CodePercept-mini served (tests/bench/bench_codepercept_mini.py)"
COMMAND = ".venv/bin/python -m tests.bench.bench_codepercept_mini --update-docs"
PUBLISHED = REPO / "models" / "codepercept-mini"
HELDOUT_SEED = 1
DPI = 100
THREADS = 2
SANDBOX_WORKERS = 2
BEST_OF = 4
SAMPLING = {"temperature": 0.7, "top_p": 0.95}
DECODE_TARGET = 200.0       # tok/s, served
BEST_OF_TARGET_S = 3.0      # s per figure, the model's best of 4 through the gateway
QUICK_FIGURES = 2


@dataclass(frozen=True)
class Config:
    name: str
    backend: str
    candidates: int
    sampling: dict
    refine_renders: int | None = None   # None: the backend's default budget (codeperception/backends/registry.py)


CONFIGS = (Config("retrieval (baseline)", "retrieval", BEST_OF, {}),
           Config(f"model, best of {BEST_OF}", "triton", BEST_OF, SAMPLING),
           Config("default: verified, refined", "verified", 1, SAMPLING),
           Config("verified, not refined", "verified", 1, SAMPLING, refine_renders=0))


@dataclass
class Repeat:
    served_tps: float = 0.0
    torch_tps: float = 0.0
    served_ttft_s: float = 0.0
    torch_ttft_s: float = 0.0
    seconds: dict[str, list[float]] = field(default_factory=dict)   # config -> per figure
    best_of_parts: list[dict[str, float]] = field(default_factory=list)   # per best-of call: `parts` of it

    def per_figure(self, config: str) -> float:
        return statistics.median(self.seconds[config])

    def part(self, name: str) -> float:
        return statistics.median(parts[name] for parts in self.best_of_parts)


# The parts of one best-of call, from its response's timings (`parts`), as the report names them.
PARTS = {"call": "the call through the gateway",
         "service": "the service's total (`total_s`)",
         "generation": "its slowest candidate's generation",
         "tokens": "that candidate's tokens",
         "render_score": "its render and score after it",
         "around": "the service around that path (its total less the path)",
         "gateway": "the gateway and the wire (the call less the service's total)"}


def parts(took: float, body: dict) -> dict[str, float]:
    """Where one image-to-code call's time went (PARTS), from the response's own timings: the candidates start
    together, so the answer waits on the one whose generation, render and score end last."""
    def path(candidate: dict) -> float:
        return sum(candidate["timings"][key] for key in ("generation_s", "render_s", "score_s"))

    slowest = max(body["candidates"], key=path)
    usage = slowest.get("usage") or {}
    return {"call": took, "service": body["total_s"], "generation": slowest["timings"]["generation_s"],
            "tokens": float(usage.get("completion_tokens", 0)),
            "render_score": slowest["timings"]["render_s"] + slowest["timings"]["score_s"],
            "around": body["total_s"] - path(slowest), "gateway": took - body["total_s"]}


# --- the figures --------------------------------------------------------------------------------------

def heldout_figures(sandbox: SandboxServer, count: int) -> list[tuple[str, bytes]]:
    from services.codeperception.sample_dataset import client_renderer
    from services.evaluation.synth import corpus, families

    names = families.resolve("")
    with sandbox.client() as client:
        render = client_renderer(client, DPI)
        return [(program.family, render(program.code))
                for program in corpus.programs(HELDOUT_SEED, names, range(min(count, len(names))))]


_calls = itertools.count(1)


def unseen(png: bytes) -> bytes:
    """The figure with its top-left 4x4 pixels in a colour of this call's own, so no kept result of an
    earlier call answers for it (the digest is of the pixels the model sees)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    call = next(_calls)
    image.paste((call % 251, call // 251 % 251, 128), (0, 0, 4, 4))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- (1) decode ---------------------------------------------------------------------------------------

async def _served_decode(triton_url: str, png: bytes, max_tokens: int) -> tuple[float, float, int]:
    """(tokens/s after the first, seconds to the first, tokens) of one served greedy generation."""
    import tritonclient.grpc.aio as triton_aio

    from services.models.codepercept.config import CODE_QUESTION
    from services.models.codepercept.family import GENERATION_MODEL
    from services.triton.generation_client import GenerationClient, GenerationRequest

    client = triton_aio.InferenceServerClient(triton_url)
    request = GenerationRequest(prompt=CODE_QUESTION, images=(unseen(png),), max_tokens=max_tokens, temperature=0)
    try:
        started = time.perf_counter()
        first = None
        async with aclosing(GenerationClient(client).stream(GENERATION_MODEL, request, timeout_s=600)) as chunks:
            async for chunk in chunks:
                now = time.perf_counter()
                if first is None and chunk.completion_tokens:
                    first = (now, chunk.completion_tokens)
                last = (now, chunk.completion_tokens)
    finally:
        await client.close()
    tokens = last[1] - first[1]
    return (tokens / (last[0] - first[0]) if tokens else float("nan")), first[0] - started, last[1]


class TorchDecoder:
    """transformers `generate` on the checkpoint, from the prompt the served model builds (greedy)."""

    def __init__(self, checkpoint: Path) -> None:
        import torch

        from services.models.codepercept.config import SYSTEM_MESSAGE
        from services.models.tokenvl.checkpoint import load_model
        from services.models.tokenvl.config import TOKENS_PER_TILE
        from services.models.tokenvl.tokens import TOKENIZER_FILE, PromptBuilder, Tokenizer

        torch.set_num_threads(THREADS)
        self.model, _ = load_model(checkpoint)
        self.tokenizer = Tokenizer.from_file(checkpoint / TOKENIZER_FILE)
        self.prompts = PromptBuilder(self.tokenizer, system_message=SYSTEM_MESSAGE, tokens_per_tile=TOKENS_PER_TILE)

    def decode(self, png: bytes, max_tokens: int) -> tuple[float, float, int]:
        """(tokens/s after the first, seconds to the first, tokens): the first token timed alone, then all."""
        import torch

        from services.models.codepercept.config import CODE_QUESTION
        from services.models.codepercept.data import pixel_values

        pixels = pixel_values(png)
        ids = self.prompts.single(CODE_QUESTION, [len(pixels)]).ids
        stop = [self.tokenizer.im_end_id]

        def generate(new_tokens: int) -> list[int]:
            return self.model.generate_greedy(ids, pixels, img_context_id=self.tokenizer.img_context_id,
                                              stop_ids=stop, max_new_tokens=new_tokens)

        with torch.no_grad():
            started = time.perf_counter()
            generate(1)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            tokens = len(generate(max_tokens))
            whole_s = time.perf_counter() - started
        # the tokens after the first over the time after it (the first token's time measured alone, above)
        rate = (tokens - 1) / (whole_s - first_s) if tokens > 1 else float("nan")
        return rate, first_s, tokens


# --- (2) image-to-code through the gateway ---------------------------------------------------------

def image_to_code(http: httpx.Client, png: bytes, config: Config, seed: int) -> tuple[float, dict]:
    """The call's wall time, and its response."""
    image = base64.b64encode(unseen(png)).decode()
    started = time.perf_counter()
    response = http.post("/v1/stem/image-to-code", json={
        "image": image, "candidates": config.candidates, "dpi": DPI, "seed": seed, **config.sampling,
        **({} if config.refine_renders is None else {"refine_renders": config.refine_renders})})
    took = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{config.name}: image-to-code failed: {response.status_code} {response.text[:300]}")
    return took, response.json()


def measure(gateways: dict[str, httpx.Client], triton_url: str, torch_decoder: TorchDecoder,
            figures: list[tuple[str, bytes]], max_tokens: int, rounds: int) -> Repeat:
    repeat = Repeat(seconds={config.name: [] for config in CONFIGS})
    served, reference = [], []
    for _, png in figures[:2]:   # decode: two figures, each side in turn
        served.append(asyncio.run(_served_decode(triton_url, png, max_tokens)))
        reference.append(torch_decoder.decode(png, max_tokens))
    repeat.served_tps = statistics.median(s[0] for s in served)
    repeat.torch_tps = statistics.median(r[0] for r in reference)
    repeat.served_ttft_s = statistics.median(s[1] for s in served)
    repeat.torch_ttft_s = statistics.median(r[1] for r in reference)
    for round_index in range(rounds):
        for number, (_, png) in enumerate(figures):
            shift = (round_index + number) % len(CONFIGS)
            for config in CONFIGS[shift:] + CONFIGS[:shift]:
                took, body = image_to_code(gateways[config.name], png, config, number)
                repeat.seconds[config.name].append(took)
                if config is CONFIGS[1]:
                    repeat.best_of_parts.append(parts(took, body))
    return repeat


def run(checkpoint: Path, index: Path, repeats: int, figure_count: int, rounds: int,
        max_tokens: int) -> tuple[list[Repeat], list[str]]:
    from services.models.build_default import build_families
    from services.triton import stubenv
    from services.triton.launcher import TritonServer

    site = stubenv.stub_site()
    if site is not None:
        stubenv.install(site)
    torch_decoder = TorchDecoder(checkpoint)
    with tempfile.TemporaryDirectory(prefix="bench-codepercept-mini-") as scratch, ExitStack() as stack:
        built = build_families(Path(scratch) / "build", checkpoints={"codepercept": checkpoint},
                               only=("codepercept",), log=lambda *_: None)
        triton = stack.enter_context(TritonServer(built.repository, http_port=0, grpc_port=0, metrics_port=0))
        sandbox = stack.enter_context(SandboxServer(workers=SANDBOX_WORKERS, queue_size=4 * BEST_OF))
        figures = heldout_figures(sandbox, figure_count)
        empty = Path(scratch) / "no-dataset"
        empty.mkdir()
        gateways = {}
        for config in CONFIGS:
            service = stack.enter_context(CodePerceptionProcess(
                sandbox.target, empty, PERCEPT_CODEPERCEPTION_BACKEND=config.backend,
                PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=str(index), PERCEPT_CODEPERCEPTION_TRITON_URL=triton.grpc_url))
            url = stack.enter_context(running_gateway(triton.grpc_url, PERCEPT_CODEPERCEPTION_URL=service.target))
            gateways[config.name] = stack.enter_context(httpx.Client(base_url=url, timeout=600))
        for config in CONFIGS:   # one untimed call each: every side warm
            image_to_code(gateways[config.name], figures[0][1], config, 0)
        torch_decoder.decode(figures[0][1], 8)
        results = []
        for number in range(repeats):
            print(f"repeat {number + 1}/{repeats} ...", file=sys.stderr)
            results.append(measure(gateways, triton.grpc_url, torch_decoder, figures, max_tokens, rounds))
    return results, [family for family, _ in figures]


# --- the report ---------------------------------------------------------------------------------------

def _guarded(checkpoint: Path) -> str:
    """The served model decodes under its code guard when its record carries the guard's names (PyTorch's
    `generate`, the baseline, does not)."""
    from services.models.codepercept.family import code_guard_rules, recorded

    return " (under its code guard)" if code_guard_rules(recorded(checkpoint)) is not None else ""


def markdown(results: list[Repeat], families: list[str], rounds: int, max_tokens: int, checkpoint: Path) -> str:
    served = summarize(r.served_tps for r in results)
    reference = summarize(r.torch_tps for r in results)
    ratio = summarize(r.served_tps / r.torch_tps for r in results)
    rows = ["| decode at batch 1 (greedy) | tokens/s after the first, median (min–max) | first token (s) |",
            "|---|---|---|",
            f"| served `codepercept` (Triton, gRPC stream) | {served.format('', 0)} | "
            f"{summarize(r.served_ttft_s for r in results).format('', 2)} |",
            f"| PyTorch, transformers `generate` (baseline) | {reference.format('', 0)} | "
            f"{summarize(r.torch_ttft_s for r in results).format('', 2)} |",
            "", "| image-to-code through the gateway | s per figure, median (min–max) | ratio to retrieval |",
            "|---|---|---|"]
    baseline = CONFIGS[0].name
    for config in CONFIGS:
        seconds = summarize(r.per_figure(config.name) for r in results)
        versus = summarize(r.per_figure(config.name) / r.per_figure(baseline) for r in results)
        rows.append(f"| {config.name} | {seconds.format('', 2)} | {versus.format('x')} |")
    best_of = summarize(r.per_figure(CONFIGS[1].name) for r in results)
    rows += ["", "| target | measured (median) | met |", "|---|---|---|",
             f"| served decode >= {DECODE_TARGET:.0f} tok/s | {served.median:.0f} tok/s "
             f"({ratio.format('x')} PyTorch) | {yes_no(served.meets(DECODE_TARGET))} |",
             f"| model best of {BEST_OF} through the gateway <= {BEST_OF_TARGET_S:g} s per figure | "
             f"{best_of.median:.2f} s | {yes_no(best_of.meets(BEST_OF_TARGET_S, higher_is_better=False))} |",
             "", f"| where the model's best of {BEST_OF} spends its time (each repeat's median over its calls) | "
             "median (min–max) |", "|---|---|"]
    for name, label in PARTS.items():
        unit, digits = ("", 0) if name == "tokens" else (" s", 2)
        rows.append(f"| {label} | {summarize(r.part(name) for r in results).format(unit, digits)} |")
    rows += ["",
             f"Settings: checkpoint `{checkpoint.name}`; {THREADS} threads for PyTorch, Triton's defaults for the "
             f"served model{_guarded(checkpoint)}; decode of at most {max_tokens} new tokens on 2 figures per "
             f"repeat; sandbox {SANDBOX_WORKERS} workers; {DPI} dpi; sampling {SAMPLING}; the default's refinement "
             f"{VERIFIED_REFINE_RENDERS} renders; one call at a time; "
             f"figures: held-out engine programs (seed {HELDOUT_SEED}) of {len(families)} families "
             f"({', '.join(families)}).",
             "",
             f"{measured_on()}; {len(results)} repeats, each {rounds} round(s) over the figures. "
             f"Reproduce: `{COMMAND}`."]
    return "\n".join(rows)


def plot(results: list[Repeat], path: Path) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    medians, errors = median_bars([summarize(r.served_tps for r in results), summarize(r.torch_tps for r in results)])
    left.bar(["served (Triton)", "PyTorch generate"], medians, yerr=errors, capsize=6, color=["#dd8452", "#4c72b0"])
    left.axhline(DECODE_TARGET, color="grey", linestyle="--", linewidth=1, label=f"target {DECODE_TARGET:.0f} tok/s")
    left.set_ylabel("tokens/s after the first, median of repeats")
    left.set_title("CodePercept-mini decode, batch 1")
    left.legend(loc="upper right")
    medians, errors = median_bars(summarize(r.per_figure(c.name) for r in results) for c in CONFIGS)
    right.bar([c.name.replace(", ", ",\n").replace(": ", ":\n") for c in CONFIGS], medians, yerr=errors, capsize=6,
              color=["#4c72b0", "#dd8452", "#55a868", "#8fbc8f"])
    right.axhline(BEST_OF_TARGET_S, color="grey", linestyle="--", linewidth=1,
                  label=f"target: best of {BEST_OF} <= {BEST_OF_TARGET_S:g} s")
    right.set_ylabel("s per figure, median of repeats")
    right.set_title(f"image-to-code through the gateway ({os.cpu_count()} cores)")
    right.legend(loc="upper left")
    save(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, quick=f"{QUICK_FIGURES} figures, 64 tokens")
    parser.add_argument("--checkpoint", type=Path, default=PUBLISHED)
    parser.add_argument("--index", type=Path, default=None, help="default: the one published beside the checkpoint")
    parser.add_argument("--figures", type=int, default=8, help="held-out figures, one per family")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the figures per repeat")
    parser.add_argument("--max-tokens", type=int, default=512, help="new tokens of each decode")
    args = parse_checked(parser, argv)
    from services.models.codepercept.config import INDEX_FILE

    index = args.index or args.checkpoint / INDEX_FILE
    if not (args.checkpoint / "config.json").is_file() or not index.is_file():
        parser.error(f"needs a CodePercept-mini checkpoint in {args.checkpoint} and a retrieval index at {index} "
                     "(make publish-codepercept)")
    figures = QUICK_FIGURES if args.quick else args.figures
    max_tokens = 64 if args.quick else args.max_tokens
    results, families = run(args.checkpoint, index, args.repeats, figures, args.rounds, max_tokens)
    table = markdown(results, families, args.rounds, max_tokens, args.checkpoint)
    if not args.quick:
        plot(results, PLOT)
    print(table)
    if args.update_docs:
        from services.evaluation.docs_block import write_block

        write_block(DOCS, BLOCK, f"{HEADING}\n\n{table}\n\n![CodePercept-mini served](img/{PLOT.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
