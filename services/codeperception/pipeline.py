"""Render-verified best-of-N: generate N candidates, render each, score each render against
the input, choose the best.

Each candidate runs as its own task -- generate, extract the program, render, score --
so renders start as soon as their candidate is generated; generation is bounded by the
backend's concurrency (per request) and the service's (all requests together), renders
by the sandbox's pool (which queues, or refuses with a retry hint). Progress events come
out in the order things happen: per candidate GENERATED before RENDERED; SCORED once every
candidate is done, then BEST_CHOSEN, then the result. Cancelling the consumer (the caller
went away, or its deadline passed) cancels every task, and with them the in-flight backend
requests and sandbox RPCs.

With a refinement budget, the best candidate's numbers are then searched (refinement.py), one
REFINED event per try between SCORED and BEST_CHOSEN; a program that scores higher is appended
as a `refined` candidate and wins.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import AsyncIterator

from services.common.errors import PerceptError

from .backends import Backend, GenerationFailed, GenerationOptions, InputImage
from .captions import caption_from_trace
from .convert import CANDIDATE_STATUS_OF_RENDER, fidelity_to_proto, set_origin
from .deadline import Deadline
from .extraction import extract_code
from .fidelity import FidelityReport, PreparedReference, prepare_reference, score, zero_report
from .metrics import Metrics
from .protos import codeperception_pb2 as pb
from .protos import sandbox_pb2
from .refinement import Refinement, input_inches
from .render_trace import parse_trace
from .sandbox import SandboxRenderer
from .selection import choose_best

LOG = logging.getLogger("percept.codeperception.pipeline")


def render_detail(response: sandbox_pb2.RenderResponse) -> str:
    """Why a render went as it did, with the program's own exception when it raised."""
    error = f"{response.error.type}: {response.error.message}" if response.error.type else ""
    return "; ".join(part for part in (response.detail, error) if part)


@dataclass(frozen=True)
class RenderPlan:
    dpi: int
    timeout_s: float
    max_code_bytes: int


@dataclass
class CandidateOutcome:
    candidate: pb.Candidate
    render_png: bytes = b""
    trace: dict | None = None
    report: FidelityReport | None = None

    @property
    def rendered(self) -> bool:
        return self.candidate.status == pb.CANDIDATE_STATUS_OK


@dataclass
class _Done:
    index: int
    outcome: CandidateOutcome | None = None
    error: BaseException | None = None


@dataclass
class BestOfN:
    backend: Backend
    renderer: SandboxRenderer
    metrics: Metrics
    generation_slots: asyncio.Semaphore   # shared by every request of the process
    max_image_pixels: int
    request_slots: asyncio.Semaphore | None = field(default=None)

    async def run(self, image: InputImage, prepared, options: GenerationOptions, n: int, plan: RenderPlan,
                  deadline: Deadline, request_id: str, refine_renders: int = 0,
                  ) -> AsyncIterator[pb.Progress | pb.ImageToCodeResponse]:
        started = time.monotonic()
        self.metrics.candidates.observe(n)
        per_request = asyncio.Semaphore(max(1, min(n, self.backend.max_concurrency)))
        events: asyncio.Queue = asyncio.Queue()
        # The input's half of every comparison, done once while the candidates are generated.
        reference = asyncio.create_task(asyncio.to_thread(lambda: prepare_reference(image.on_white())))
        tasks = [asyncio.create_task(self._candidate(i, image, prepared, reference, options, plan, deadline,
                                                     request_id, per_request, events)) for i in range(n)]
        outcomes: list[CandidateOutcome | None] = [None] * n
        try:
            generated = rendered = finished = 0
            while finished < n:
                event = await events.get()
                if isinstance(event, _Done):
                    if event.error is not None:
                        raise event.error
                    outcomes[event.index] = event.outcome
                    finished += 1
                    continue
                stage, index, status = event
                if stage == pb.PROGRESS_STAGE_GENERATED:
                    generated += 1
                    completed = generated
                else:
                    rendered += 1
                    completed = rendered
                yield pb.Progress(stage=stage, completed=completed, total=n, candidate_index=index,
                                  candidate_status=status)
        finally:
            for task in (*tasks, reference):
                task.cancel()
            await asyncio.gather(*tasks, reference, return_exceptions=True)
        yield pb.Progress(stage=pb.PROGRESS_STAGE_SCORED, completed=sum(o.rendered for o in outcomes), total=n)
        best = choose_best([o.report.aggregate if o.rendered else None for o in outcomes])
        if refine_renders and outcomes[best].rendered:
            async for event in self._refine(outcomes, best, reference.result(), refine_renders, plan, deadline,
                                            request_id):
                yield event
            # A refined candidate scored higher than the best: the one rule of choosing picks it.
            best = choose_best([o.report.aggregate if o.rendered else None for o in outcomes])
            n = len(outcomes)
        yield pb.Progress(stage=pb.PROGRESS_STAGE_BEST_CHOSEN, completed=n, total=n, candidate_index=best,
                          candidate_status=outcomes[best].candidate.status)
        yield self._response(outcomes, best, time.monotonic() - started)

    async def _refine(self, outcomes: list[CandidateOutcome], best: int, reference: PreparedReference, budget: int,
                      plan: RenderPlan, deadline: Deadline, request_id: str) -> AsyncIterator[pb.Progress]:
        """Refine candidate `best` within `budget` renders (refinement.py); a program that scores higher is
        appended to `outcomes` as a `refined` candidate. A sandbox fault or the deadline ends the search
        with what it has found: the candidates already scored still answer."""
        chosen = outcomes[best]
        index = len(outcomes)
        tries: asyncio.Queue = asyncio.Queue()

        async def render_score(code: str):
            response = await self._render(code, plan, deadline, f"{request_id}/refine" if request_id else "")
            if response.status != sandbox_pb2.RENDER_STATUS_OK or not response.figures:
                return None, None
            png = response.figures[0].data
            try:
                report = await self._score(reference, png)
            except PerceptError:   # not a decodable image: this try scores nothing
                return None, None
            return report.aggregate, (png, response.trace_json, report)

        started = time.monotonic()
        refined = Refinement(chosen.candidate.code, chosen.report.aggregate,
                             figure_inches=input_inches(reference.size, plan.dpi))

        async def searching() -> None:
            try:
                await refined.run(budget, render_score, on_try=tries.put_nowait)
            finally:
                tries.put_nowait(None)   # the end, however the search ended

        search = asyncio.create_task(searching())
        stopped = ""
        try:
            while (renders := await tries.get()) is not None:
                yield pb.Progress(stage=pb.PROGRESS_STAGE_REFINED, completed=renders, total=budget,
                                  candidate_index=index)
            search.result()
        except PerceptError as error:   # the sandbox or the deadline: keep what the search had found
            stopped = f"; stopped early: {error.message}"
        finally:
            search.cancel()
            await asyncio.gather(search, return_exceptions=True)
        self.metrics.refinement_gain.observe(refined.score - chosen.report.aggregate)
        LOG.info("refinement request_id=%s from=%d renders=%d changes=%d gain=%.4f%s", request_id or "-", best,
                 refined.renders, len(refined.changes), refined.score - chosen.report.aggregate, stopped)
        if not refined.improved:
            return
        png, trace_json, report = refined.outcome
        candidate = pb.Candidate(index=index, status=pb.CANDIDATE_STATUS_OK, code=refined.code,
                                 origin=pb.CANDIDATE_ORIGIN_REFINED, refined_from=best,
                                 detail=f"candidate {best} with {refined.describe()} "
                                        f"({refined.renders} renders){stopped}")
        candidate.timings.render_seconds = time.monotonic() - started
        candidate.fidelity.CopyFrom(fidelity_to_proto(report))
        outcomes.append(CandidateOutcome(candidate, render_png=png, trace=parse_trace(trace_json), report=report))

    async def _render(self, code: str, plan: RenderPlan, deadline: Deadline,
                      request_id: str) -> sandbox_pb2.RenderResponse:
        return await self.renderer.render(sandbox_pb2.RenderRequest(
            code=code, request_id=request_id,
            options=sandbox_pb2.RenderOptions(dpi=plan.dpi, timeout_seconds=plan.timeout_s)), deadline)

    async def _score(self, reference: PreparedReference, png: bytes) -> FidelityReport:
        """CPU work: off the event loop. Raises PerceptError when the render is not a decodable image."""
        return await asyncio.to_thread(score, reference, png, max_pixels=self.max_image_pixels)

    def _response(self, outcomes: list[CandidateOutcome], best: int, total_s: float) -> pb.ImageToCodeResponse:
        chosen = outcomes[best]
        response = pb.ImageToCodeResponse(
            best_index=best, code=chosen.candidate.code, render_png=chosen.render_png,
            candidates=[o.candidate for o in outcomes], backend=self.backend.name, model=self.backend.model,
            total_seconds=total_s)
        response.fidelity.CopyFrom(chosen.candidate.fidelity if chosen.rendered
                                   else fidelity_to_proto(zero_report(with_trace=False)))
        if chosen.trace is not None:
            response.caption = caption_from_trace(chosen.trace)
        return response

    async def _candidate(self, index, image, prepared, reference, options, plan, deadline, request_id,
                         per_request, events: asyncio.Queue) -> None:
        try:
            outcome = await self._run_candidate(index, image, prepared, reference, options, plan, deadline,
                                                request_id, per_request, events)
            events.put_nowait(_Done(index, outcome=outcome))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            events.put_nowait(_Done(index, error=exc))

    async def _run_candidate(self, index, image, prepared, reference: "asyncio.Task[PreparedReference]",
                             options, plan: RenderPlan, deadline: Deadline,
                             request_id: str, per_request: asyncio.Semaphore,
                             events: asyncio.Queue) -> CandidateOutcome:
        candidate = pb.Candidate(index=index)
        outcome = CandidateOutcome(candidate)

        def progress(stage):
            events.put_nowait((stage, index, candidate.status))

        # 1. generate
        started = time.monotonic()
        async with per_request, self.generation_slots:
            try:
                generation = await self.backend.generate(prepared, options.for_candidate(index),
                                                         deadline.require("generating"))
            except GenerationFailed as exc:
                generation = None
                candidate.status, candidate.detail = pb.CANDIDATE_STATUS_GENERATION_ERROR, str(exc)
        candidate.timings.generation_seconds = time.monotonic() - started
        self.metrics.generation_seconds.labels(self.backend.name).observe(candidate.timings.generation_seconds)
        if generation is not None:
            set_origin(candidate, generation)
            candidate.finish_reason = generation.finish_reason
            candidate.usage.prompt_tokens = generation.prompt_tokens
            candidate.usage.completion_tokens = generation.completion_tokens
            code = extract_code(generation.text)
            if code is None:
                candidate.status, candidate.detail = pb.CANDIDATE_STATUS_NO_CODE, "the answer holds no code block"
            else:
                candidate.code = code
        progress(pb.PROGRESS_STAGE_GENERATED)

        # 2. render
        if candidate.code and len(candidate.code.encode()) > plan.max_code_bytes:
            candidate.status = pb.CANDIDATE_STATUS_REJECTED
            candidate.detail = f"the program is larger than {plan.max_code_bytes} bytes; not run"
        elif candidate.code:
            started = time.monotonic()
            response = await self._render(candidate.code, plan, deadline, f"{request_id}/{index}" if request_id else "")
            candidate.timings.render_seconds = time.monotonic() - started
            candidate.status = CANDIDATE_STATUS_OF_RENDER.get(response.status, pb.CANDIDATE_STATUS_EXEC_ERROR)
            candidate.detail = render_detail(response)
            if candidate.status == pb.CANDIDATE_STATUS_OK and response.figures:
                outcome.render_png = response.figures[0].data
                outcome.trace = parse_trace(response.trace_json)
            elif candidate.status == pb.CANDIDATE_STATUS_OK:
                candidate.status = pb.CANDIDATE_STATUS_NO_FIGURE
        progress(pb.PROGRESS_STAGE_RENDERED)

        # 3. score (CPU work: off the event loop)
        if outcome.render_png:
            started = time.monotonic()
            prepared_reference = await reference  # the input was validated: a failure here is the request's
            try:
                outcome.report = await self._score(prepared_reference, outcome.render_png)
            except PerceptError as exc:  # the render itself is not a decodable image: the candidate's fault
                candidate.status, candidate.detail = pb.CANDIDATE_STATUS_OUTPUT_LIMIT, exc.message
                outcome.render_png, outcome.trace = b"", None
            else:
                candidate.timings.score_seconds = time.monotonic() - started
                candidate.fidelity.CopyFrom(fidelity_to_proto(outcome.report))
                self.metrics.fidelity.labels(outcome.report.mode).observe(outcome.report.aggregate)
        LOG.info("candidate request_id=%s index=%d status=%s aggregate=%s", request_id or "-", index,
                 pb.CandidateStatus.Name(candidate.status),
                 f"{outcome.report.aggregate:.4f}" if outcome.report else "-")
        return outcome
