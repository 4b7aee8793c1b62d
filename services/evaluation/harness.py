"""`percept-eval run`: one pass of STEM2Code-Eval over a split (or one shard of it).

Per sample: the input image is decoded with the platform's limits; the backend writes an
answer (the `openai` and `triton` backends send it as the protocol's capped JPEG); the program
is extracted by the benchmark's rule; it is rendered in the sandbox at the protocol's DPI and
timeout, and so is the ground-truth program (for its execution trace); the render is scored
against the dataset's image with the deterministic fidelity metrics (image metrics, plus the
trace metrics when both programs rendered); optional judges add the image and code scores.
The finished sample is one record appended atomically (records.py): a killed run resumes
where it stopped, every sample exactly once.

Best of N (`candidates` > 1, or a backend that proposes its own number per image: `retrieval` and
`verified` verify k nearest programs): the answer is chosen as the code-perception service chooses it.
Every candidate is generated, its program rendered at the run's DPI and scored against the input image
(image metrics), and the best one (services/codeperception/selection.py) is the sample's answer, which
then goes through the steps above like a single answer. The record lists every candidate (origin,
status, score) and which was chosen.

Generation and rendering are bounded separately (`generation_concurrency`,
`render_concurrency`), and the samples in flight by their sum, so memory stays flat. The
harness calls the backends and the sandbox directly rather than the code-perception
service: it scores against the dataset's own image and code, needs the reference render's
trace, and an eval Job then needs only the sandbox pool (docs/evaluation.md).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from prometheus_client import CollectorRegistry

from services.codeperception.backends import (
    Backend,
    Generation,
    GenerationFailed,
    GenerationOptions,
    InputImage,
    candidate_count,
    create_backend,
)
from services.codeperception.backends.base import ORIGIN_REFINED
from services.codeperception.dataset import Sample, read_samples
from services.codeperception.deadline import Deadline
from services.codeperception.extraction import extract_code, fenced
from services.codeperception.fidelity import FidelityReport, prepare_reference, score, zero_report
from services.codeperception.metrics import Metrics
from services.codeperception.pipeline import render_detail
from services.codeperception.protos import sandbox_pb2
from services.codeperception.refinement import Refinement, input_inches
from services.codeperception.render_trace import parse_trace
from services.codeperception.sandbox import SandboxRenderer
from services.codeperception.selection import choose_best
from services.codeperception.settings import CodePerceptionSettings
from services.common.errors import PerceptError

from . import protocol
from .judge import CODE, IMAGE, Judge, JudgeConfig
from .progress import Progress
from .records import RecordStore, RunDirError, read_manifest, write_manifest
from .settings import SANDBOX_URL
from .shards import Shard

LOG = logging.getLogger("percept.evaluation")
MANIFEST_SCHEMA = "percept-eval.run/1"
# Statuses a sample can end with (render statuses are the sandbox's, without the prefix).
OK = "OK"
NO_CODE = "NO_CODE"
GENERATION_ERROR = "GENERATION_ERROR"
INVALID_INPUT = "INVALID_INPUT"
RENDER_SLACK_S = 10.0  # the sandbox RPC may take this much longer than the render's own limit
# The ground truth is rendered only for its execution trace, whose metrics read strings, the axes
# grid, artist classes and colours -- nothing that depends on the resolution -- so at a low dpi:
# its draw and PNG encoding cost about half of one at 300 dpi (docs/evaluation.md).
TRACE_DPI = 36


class SplitError(ValueError):
    """The split's JSONL cannot be read as STEM2Code-Eval records."""


@dataclass(frozen=True)
class RunConfig:
    data: Path
    images: Path
    out: Path
    backend: str = "reference"
    shard: Shard = field(default_factory=Shard.whole)
    sandbox_url: str = SANDBOX_URL.default
    dpi: int = protocol.DPI
    render_timeout_s: float = protocol.EXEC_TIMEOUT_S
    sandbox_retry_s: float = 60.0
    generation_timeout_s: float = 600.0
    generation_concurrency: int = 8
    render_concurrency: int = 4
    options: GenerationOptions = field(default_factory=GenerationOptions)
    candidates: int = 1         # answers per sample, the best verified one kept (a backend may propose more)
    refine_renders: int | None = None   # the best answer's refinement budget; None: the service's default
    prompt: str = ""            # empty: the backend's configured prompt
    prompt_file: str = ""
    model: str = ""             # `openai` backend: overrides PERCEPT_CODEPERCEPTION_OPENAI_MODEL
    base_url: str = ""          # `openai` backend: overrides PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL
    judge: JudgeConfig | None = None
    trace_metrics: bool = True  # also render the ground truth, for the trace metrics
    progress_interval_s: float = 10.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_for(config: RunConfig, total: int, model: str, refine_renders: int = 0) -> dict:
    """What identifies a run: a resume must match it exactly."""
    options = config.options
    return {
        "schema": MANIFEST_SCHEMA,
        "split": {"data": config.data.name, "sha256": file_sha256(config.data), "total": total},
        "images_dir": str(config.images.resolve()),  # for the report's thumbnails
        "shard": str(config.shard),
        "backend": config.backend,
        "model": model,
        "candidates": config.candidates,
        "refine_renders": refine_renders,
        "protocol": {"dpi": config.dpi, "render_timeout_s": config.render_timeout_s,
                     "trace_metrics": config.trace_metrics, "trace_dpi": TRACE_DPI if config.trace_metrics else None,
                     "prompt_sha256": _prompt_digest(config),
                     "sampling": {"temperature": options.temperature, "top_p": options.top_p,
                                  "max_tokens": options.max_tokens, "seed": options.seed,
                                  "greedy_first": options.greedy_first,
                                  **dict(sorted(options.extra.items()))}},
        "judge": config.judge.public() if config.judge else None,
    }


def _prompt_digest(config: RunConfig) -> str | None:
    if config.prompt_file:
        return hashlib.sha256(Path(config.prompt_file).read_bytes()).hexdigest()
    if config.prompt:
        return hashlib.sha256(config.prompt.encode()).hexdigest()
    return None


def backend_settings(config: RunConfig) -> CodePerceptionSettings:
    """The code-perception settings the chosen backend is built from: the environment's, with the
    split as the reference backend's dataset and the run's flags on top."""
    overrides = dict(backend=config.backend, dataset_dir=config.data.parent,
                     dataset_jsonl=str(config.data.resolve()), dataset_images=str(config.images.resolve()),
                     generation_concurrency=config.generation_concurrency)
    if config.prompt or config.prompt_file:
        overrides.update(prompt=config.prompt, prompt_file=config.prompt_file)
    if config.model:
        overrides["openai_model"] = config.model
    if config.base_url:
        overrides["openai_base_url"] = config.base_url.rstrip("/")
    return CodePerceptionSettings.from_env(**overrides)


@dataclass
class RunResult:
    out: Path
    total: int            # samples this run owns
    ran: int              # samples run by this invocation
    skipped: int          # samples already recorded (a resume)
    seconds: float


class Harness:
    def __init__(self, config: RunConfig, *, backend: Backend | None = None,
                 on_record: Callable[[dict], None] | None = None) -> None:
        self.config = config
        self.settings = backend_settings(config)
        self.backend = backend or create_backend(self.settings)
        self.on_record = on_record
        self.max_pixels = self.settings.max_image_pixels
        self.refine_renders = self.settings.refine_renders if config.refine_renders is None \
            else config.refine_renders

    async def run(self) -> RunResult:
        config = self.config
        started = time.monotonic()
        try:
            samples = read_samples(config.data, config.images)
        except (OSError, ValueError) as exc:
            raise SplitError(str(exc)) from None
        mine = [sample for sample in samples if config.shard.owns(sample.index)]
        config.out.mkdir(parents=True, exist_ok=True)
        await self.backend.start()
        manifest = manifest_for(config, len(mine), self.backend.model, self.refine_renders)
        known = read_manifest(config.out)
        if known is not None and known != manifest:
            differing = sorted(key for key in set(known) | set(manifest) if known.get(key) != manifest.get(key))
            raise RunDirError(f"{config.out} holds another run (it differs in: {', '.join(differing)}); "
                              f"use a new --out directory")
        write_manifest(config.out, manifest)
        store = RecordStore(config.out)
        stray = sorted(set(store.records) - {sample.index for sample in mine})
        if stray:
            raise RunDirError(f"{config.out} records samples this shard does not own: {stray[:5]}")
        pending = store.pending(mine)
        skipped = len(mine) - len(pending)
        renderer = SandboxRenderer(config.sandbox_url, default_timeout_s=config.render_timeout_s,
                                   sandbox_retry_s=config.sandbox_retry_s, metrics=Metrics(CollectorRegistry()))
        judge = Judge(config.judge) if config.judge else None
        progress = Progress(total=len(mine), done=skipped, interval_s=config.progress_interval_s)
        # Scoring is CPU work in numpy/scikit-image (which release the GIL): a few threads.
        scorer = ThreadPoolExecutor(max_workers=max(1, min(4, config.render_concurrency)),
                                    thread_name_prefix="score")
        generation_slots = asyncio.Semaphore(config.generation_concurrency)
        render_slots = asyncio.Semaphore(config.render_concurrency)
        in_flight = asyncio.Semaphore(config.generation_concurrency + config.render_concurrency)
        runner = _SampleRunner(self, store, renderer, judge, scorer, generation_slots, render_slots)

        async def one(sample: Sample) -> None:
            try:
                record = await runner.run(sample)
                store.append(record)
                progress.advance(record["status"])
                if self.on_record:
                    self.on_record(record)
            finally:
                in_flight.release()

        tasks: list[asyncio.Task] = []
        try:
            for sample in pending:
                await in_flight.acquire()
                failed = next((task for task in tasks if task.done() and task.exception()), None)
                if failed is not None:
                    in_flight.release()
                    break
                tasks.append(asyncio.create_task(one(sample)))
            # the first fault of the whole run (backend or sandbox unreachable) stops it; its
            # sample has no record, so a resume runs it again
            for task in asyncio.as_completed(tasks):
                await task
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            progress.close()
            store.close()
            scorer.shutdown(wait=True, cancel_futures=True)
            await renderer.close()
            if judge:
                await judge.close()
            await self.backend.close()
        return RunResult(config.out, len(mine), len(pending), skipped, time.monotonic() - started)


class _SampleRunner:
    def __init__(self, harness: Harness, store: RecordStore, renderer: SandboxRenderer, judge: Judge | None,
                 scorer: ThreadPoolExecutor, generation_slots: asyncio.Semaphore,
                 render_slots: asyncio.Semaphore) -> None:
        self.harness = harness
        self.store = store
        self.config = harness.config
        self.backend = harness.backend
        self.renderer = renderer
        self.judge = judge
        self.scorer = scorer
        self.generation_slots = generation_slots
        self.render_slots = render_slots

    async def _in_thread(self, function, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.scorer, lambda: function(*args, **kwargs))

    async def run(self, sample: Sample) -> dict:
        config = self.config
        try:  # as the split names it (it may hold a subdirectory), relative to --images
            image_name = str(sample.image_path.relative_to(config.images))
        except ValueError:
            image_name = str(sample.image_path)
        record: dict = {"index": sample.index, "image": image_name, "status": "", "detail": "",
                        "executed": False, "code": "", "render": None, "timings": {}}
        try:
            image_bytes = sample.image_path.read_bytes()
            # decoded once: the model's RGB view now, the metrics' view on white from the same pixels
            image = await self._in_thread(InputImage.decode, image_bytes, max_pixels=self.harness.max_pixels)
        except (OSError, PerceptError) as exc:
            return self._finish(record, INVALID_INPUT, f"the sample's image cannot be read: {exc}")

        # the ground truth renders while the answer is generated
        reference = (asyncio.create_task(self._render(sample.code, dpi=TRACE_DPI)) if config.trace_metrics
                     else None)
        try:
            answer = await self._generate(image, record)
            if answer is not None:
                code = extract_code(answer)
                if code is None:
                    record["status"], record["detail"] = NO_CODE, "the answer holds no code block"
                else:
                    record["code"] = code
            if not record["code"]:
                if reference is not None:
                    reference.cancel()
                return self._finish(record, record["status"], record["detail"])
            started = time.monotonic()
            response = await self._render(record["code"])
            record["timings"]["render_s"] = round(time.monotonic() - started, 4)
            status = sandbox_pb2.RenderStatus.Name(response.status).removeprefix("RENDER_STATUS_")
            if status == OK and not response.figures:
                status = "NO_FIGURE"
            reference_response = await reference if reference is not None else None
        finally:
            if reference is not None and not reference.done():
                reference.cancel()
        record["status"], record["detail"] = status, render_detail(response)
        if status != OK:
            return await self._finish_judged(record, sample, image, None, reference_response)
        png = response.figures[0].data
        candidate_trace = parse_trace(response.trace_json)
        reference_trace = None
        if reference_response is not None:
            record["reference_status"] = sandbox_pb2.RenderStatus.Name(reference_response.status).removeprefix(
                "RENDER_STATUS_")
            if reference_response.status == sandbox_pb2.RENDER_STATUS_OK:
                reference_trace = parse_trace(reference_response.trace_json)
        started = time.monotonic()
        try:
            report = await self._in_thread(self._score, image, png, reference_trace,
                                           candidate_trace if reference_trace else None)
        except PerceptError as exc:  # the render is not a decodable image: the program's fault
            record["status"], record["detail"] = "OUTPUT_LIMIT", exc.message
            return await self._finish_judged(record, sample, image, None, reference_response)
        record["timings"]["score_s"] = round(time.monotonic() - started, 4)
        record["executed"] = True
        record["render"] = self.store.save_render(sample.index, png)
        record["fidelity"] = report.as_dict()
        return await self._finish_judged(record, sample, image, png, reference_response)

    def _score(self, image: InputImage, png: bytes, reference_trace: dict | None,
               candidate_trace: dict | None) -> FidelityReport:
        reference = prepare_reference(image.on_white())
        return score(reference, png, reference_trace=reference_trace, candidate_trace=candidate_trace,
                     max_pixels=self.harness.max_pixels)

    async def _generate(self, image: InputImage, record: dict) -> str | None:
        """The sample's answer: the backend's one, or the best verified of its candidates."""
        started = time.monotonic()
        n = candidate_count(self.backend, self.config.candidates)
        try:
            prepared = await self._in_thread(self.backend.prepare, image)
        except PerceptError as exc:
            record["status"], record["detail"] = GENERATION_ERROR, exc.message
            return None
        if n == 1 and not self.harness.refine_renders:
            generation = await self._one(prepared, self.config.options, record)
        else:
            generation = await self._best_of(image, prepared, n, record)
        record["timings"]["generation_s"] = round(time.monotonic() - started, 4)
        if generation is None:
            return None
        record["generation"] = {"finish_reason": generation.finish_reason,
                                "prompt_tokens": generation.prompt_tokens,
                                "completion_tokens": generation.completion_tokens}
        return generation.text

    async def _one(self, prepared, options: GenerationOptions, record: dict) -> Generation | None:
        """One answer; a candidate's own failure is recorded as GENERATION_ERROR (None)."""
        async with self.generation_slots:
            try:
                return await self.backend.generate(prepared, options, self.config.generation_timeout_s)
            except GenerationFailed as exc:
                record["status"], record["detail"] = GENERATION_ERROR, str(exc)
                return None
            except PerceptError as exc:
                if exc.retry_after_s is not None or exc.code.value.startswith(("upstream", "deadline")):
                    raise  # the backend is down: the run stops, this sample stays pending
                record["status"], record["detail"] = GENERATION_ERROR, exc.message
                return None

    async def _best_of(self, image: InputImage, prepared, n: int, record: dict) -> Generation | None:
        """Every candidate generated, its program rendered at the run's DPI and scored against the input
        (image metrics); the best one (choose_best) is the answer. `record["candidates"]` lists them."""
        reference = await self._in_thread(prepare_reference, image.on_white())

        async def candidate(index: int) -> tuple[Generation | None, dict, float | None]:
            outcome: dict = {}
            generation = await self._one(prepared, self.config.options.for_candidate(index), outcome)
            if generation is None:
                return None, {"origin": None, **outcome}, None
            entry = {"origin": generation.origin}
            if generation.neighbour is not None:
                entry["neighbour"] = {"family": generation.neighbour.family, "seed": generation.neighbour.seed}
            code = extract_code(generation.text)
            if code is None:
                return generation, {**entry, "status": NO_CODE}, None
            status, fidelity = await self._render_and_score(code, reference)
            if fidelity is None:
                return generation, {**entry, "status": status}, None
            return generation, {**entry, "status": OK, "fidelity": round(fidelity, 6)}, fidelity

        results = await asyncio.gather(*(candidate(i) for i in range(n)))
        chosen = choose_best([fidelity for _, _, fidelity in results])
        record["candidates"] = [entry for _, entry, _ in results]
        record["chosen"] = chosen
        generation, _, fidelity = results[chosen]
        if generation is None:
            failed = results[chosen][1]
            record["status"], record["detail"] = GENERATION_ERROR, failed.get("detail", "")
        elif fidelity is not None and self.harness.refine_renders:
            generation = await self._refined(generation, fidelity, reference, record)
        return generation

    async def _refined(self, generation: Generation, fidelity: float, reference, record: dict) -> Generation:
        """The chosen answer refined as the service refines it (services/codeperception/refinement.py); a
        program that scores higher is one more candidate, and the answer."""
        search = Refinement(extract_code(generation.text), fidelity,
                            figure_inches=input_inches(reference.size, self.config.dpi))

        async def render_score(program: str):
            return (await self._render_and_score(program, reference))[1], None

        await search.run(self.harness.refine_renders, render_score)
        record["refinement"] = {"renders": search.renders, "changes": search.describe() if search.improved else ""}
        if not search.improved:
            return generation
        record["candidates"].append({"origin": ORIGIN_REFINED, "refined_from": record["chosen"], "status": OK,
                                     "fidelity": round(search.score, 6)})
        record["chosen"] = len(record["candidates"]) - 1
        return replace(generation, text=fenced(search.code), origin=ORIGIN_REFINED, neighbour=None)

    async def _render_and_score(self, code: str, reference) -> tuple[str, float | None]:
        """(status, aggregate fidelity against the prepared input); the fidelity is None when it did not render."""
        response = await self._render(code)
        status = sandbox_pb2.RenderStatus.Name(response.status).removeprefix("RENDER_STATUS_")
        if status != OK or not response.figures:
            return (status if status != OK else "NO_FIGURE"), None
        try:
            return OK, (await self._in_thread(score, reference, response.figures[0].data,
                                              max_pixels=self.harness.max_pixels)).aggregate
        except PerceptError:
            return "OUTPUT_LIMIT", None

    async def _render(self, code: str, dpi: int | None = None) -> sandbox_pb2.RenderResponse:
        config = self.config
        if len(code.encode()) > self.harness.settings.max_code_bytes:
            return sandbox_pb2.RenderResponse(status=sandbox_pb2.RENDER_STATUS_REJECTED,
                                              detail=f"the program is larger than "
                                                     f"{self.harness.settings.max_code_bytes} bytes; not run")
        async with self.render_slots:
            request = sandbox_pb2.RenderRequest(code=code, options=sandbox_pb2.RenderOptions(
                dpi=dpi or config.dpi, timeout_seconds=config.render_timeout_s,
                omit_trace=not config.trace_metrics))
            return await self.renderer.render(
                request, Deadline.after(config.render_timeout_s + config.sandbox_retry_s + RENDER_SLACK_S))

    def _finish(self, record: dict, status: str, detail: str) -> dict:
        """A sample that never reached the sandbox: nothing to score, every score 0."""
        record["status"], record["detail"] = status, detail
        record["fidelity"] = zero_report(with_trace=self.config.trace_metrics).as_dict()
        if self.judge:
            record["judge"] = {kind: {"score": 0.0, "attempts": 0, "detail": "nothing to judge"}
                               for kind in sorted(self.judge.config.scores)}
        return record

    async def _finish_judged(self, record: dict, sample: Sample, image: InputImage, png: bytes | None,
                             reference_response) -> dict:
        if "fidelity" not in record:
            with_trace = (self.config.trace_metrics and reference_response is not None
                          and reference_response.status == sandbox_pb2.RENDER_STATUS_OK)
            record["fidelity"] = zero_report(with_trace=with_trace).as_dict()
        if self.judge is None:
            return record
        verdicts = {}
        scores = self.judge.config.scores
        if IMAGE in scores:
            # upstream: a program that did not run scores image 0, unjudged
            verdicts[IMAGE] = ((await self.judge.image_score(image.image, png)).as_dict() if png is not None
                               else {"score": 0.0, "attempts": 0, "detail": "did not render"})
        if CODE in scores:
            verdicts[CODE] = (await self.judge.code_score(sample.code, record["code"])).as_dict()
        record["judge"] = verdicts
        return record


def run(config: RunConfig, **kwargs) -> RunResult:
    return asyncio.run(Harness(config, **kwargs).run())


__all__ = ["RunConfig", "Harness", "RunResult", "run", "replace"]
