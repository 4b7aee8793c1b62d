"""The gRPC face of the service: requests checked at the boundary, the work delegated
(pipeline, sandbox, fidelity), every fault sent through services.common.grpc_errors.

Client faults are INVALID_ARGUMENT with a stable code: not an image (invalid_image,
truncated_image, empty_image), too many pixels (image_too_large), code empty
(invalid_request) or too large (payload_too_large), an option out of range or unknown
(invalid_request). Nothing a request holds raises past `_call`: an unexpected exception
is logged here with its traceback and answered as INTERNAL without one.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from contextlib import asynccontextmanager

import grpc

from services.common import grpc_errors
from services.common.errors import ErrorCode, PerceptError

from .backends import Backend, GenerationOptions, InputImage, candidate_count
from .convert import CANDIDATE_STATUS_OF_RENDER, fidelity_to_proto
from .deadline import Deadline
from .fidelity import FidelityReport, prepare_reference, score, zero_report
from .metrics import Metrics
from .pipeline import BestOfN, RenderPlan, render_detail
from .protos import codeperception_pb2 as pb
from .protos import codeperception_pb2_grpc, sandbox_pb2
from .render_trace import parse_trace
from .sandbox import SandboxRenderer
from .settings import CodePerceptionSettings

LOG = logging.getLogger("percept.codeperception.service")
MAX_TEMPERATURE = 2.0


def _invalid(message: str, code: ErrorCode = ErrorCode.INVALID_REQUEST, **details) -> PerceptError:
    return PerceptError(code, message, details=details)


class CodePerceptionServicer(codeperception_pb2_grpc.CodePerceptionServiceServicer):
    def __init__(self, settings: CodePerceptionSettings, backend: Backend, renderer: SandboxRenderer,
                 metrics: Metrics) -> None:
        self.settings = settings
        self.backend = backend
        self.renderer = renderer
        self.metrics = metrics
        self.best_of_n = BestOfN(backend, renderer, metrics, asyncio.Semaphore(settings.generation_concurrency),
                                 settings.max_image_pixels)

    # --- the boundary -------------------------------------------------------------------

    @asynccontextmanager
    async def _call(self, rpc: str, context: grpc.aio.ServicerContext, request_id: str):
        self.metrics.requests.labels(rpc).inc()
        started = time.monotonic()
        try:
            yield Deadline.of_call(context.time_remaining(), self.settings.default_deadline_s)
        except PerceptError as error:
            self.metrics.errors.labels(rpc, error.code.value).inc()
            LOG.info("%s request_id=%s failed: %s %s", rpc, request_id or "-", error.code.value, error.message)
            await grpc_errors.abort_async(context, error)
        except asyncio.CancelledError:
            self.metrics.errors.labels(rpc, "cancelled").inc()
            LOG.info("%s request_id=%s cancelled (the caller left or its deadline passed)", rpc, request_id or "-")
            raise
        except Exception:
            self.metrics.errors.labels(rpc, ErrorCode.INTERNAL.value).inc()
            incident = uuid.uuid4().hex[:12]
            LOG.exception("%s request_id=%s internal error (incident %s)", rpc, request_id or "-", incident)
            await grpc_errors.abort_async(context, PerceptError(
                ErrorCode.INTERNAL, f"internal error (incident {incident}; the server's log has the details)"))
        finally:
            self.metrics.request_seconds.labels(rpc).observe(time.monotonic() - started)

    async def _decode(self, data: bytes, what: str) -> InputImage:
        if len(data) > self.settings.max_image_bytes:
            raise _invalid(f"the {what} is {len(data)} bytes; the limit is {self.settings.max_image_bytes}",
                           ErrorCode.PAYLOAD_TOO_LARGE)
        return await asyncio.to_thread(InputImage.decode, data, max_pixels=self.settings.max_image_pixels)

    def _check_code(self, code: str, what: str, *, required: bool = True) -> None:
        if not code.strip():
            if required:
                raise _invalid(f"the {what} is empty")
            return
        size = len(code.encode())
        if size > self.settings.max_code_bytes:
            raise _invalid(f"the {what} is {size} bytes; the limit is {self.settings.max_code_bytes}",
                           ErrorCode.PAYLOAD_TOO_LARGE)

    def _render_plan(self, dpi: int, timeout_s: float) -> RenderPlan:
        if not math.isfinite(timeout_s) or timeout_s < 0:
            raise _invalid("render_timeout_seconds must be a finite number of 0 or more")
        return RenderPlan(dpi=dpi or self.settings.render_dpi, timeout_s=timeout_s or self.settings.render_timeout_s,
                          max_code_bytes=self.settings.max_code_bytes)

    def _generation_options(self, options: pb.ImageToCodeOptions) -> tuple[int, GenerationOptions]:
        n = options.candidates or 1
        if n > self.settings.max_candidates:
            raise _invalid(f"candidates={n} is above the cap of {self.settings.max_candidates}",
                           option="candidates")
        if options.max_tokens > self.settings.sampling.max_tokens:
            raise _invalid(f"max_tokens={options.max_tokens} is above the cap of {self.settings.sampling.max_tokens}",
                           option="max_tokens")
        temperature = options.temperature if options.HasField("temperature") else None
        if temperature is not None and not (math.isfinite(temperature) and 0 <= temperature <= MAX_TEMPERATURE):
            raise _invalid(f"temperature must be in [0, {MAX_TEMPERATURE}]", option="temperature")
        top_p = options.top_p if options.HasField("top_p") else None
        if top_p is not None and not (math.isfinite(top_p) and 0 < top_p <= 1):
            raise _invalid("top_p must be in (0, 1]", option="top_p")
        extra = self.backend.parse_options(dict(options.backend_options))
        greedy_first = GenerationOptions.greedy_first_for(
            options.greedy_first if options.HasField("greedy_first") else None, n)
        return n, GenerationOptions(max_tokens=options.max_tokens or None, temperature=temperature, top_p=top_p,
                                    seed=options.seed if options.HasField("seed") else None, extra=extra,
                                    greedy_first=greedy_first)

    def _refine_renders(self, options: pb.ImageToCodeOptions) -> int:
        if not options.HasField("refine_renders"):
            return self.settings.refine_renders
        if options.refine_renders > self.settings.max_refine_renders:
            raise _invalid(f"refine_renders={options.refine_renders} is above the cap of "
                           f"{self.settings.max_refine_renders}", option="refine_renders")
        return options.refine_renders

    # --- ImageToCode ----------------------------------------------------------------------

    async def _image_to_code(self, request: pb.ImageToCodeRequest, deadline: Deadline):
        n, options = self._generation_options(request.options)
        refine_renders = self._refine_renders(request.options)
        n = candidate_count(self.backend, n)
        plan = self._render_plan(request.options.dpi, request.options.render_timeout_seconds)
        image = await self._decode(request.image, "image")
        prepared = await asyncio.to_thread(self.backend.prepare, image)
        async for event in self.best_of_n.run(image, prepared, options, n, plan, deadline, request.request_id,
                                              refine_renders):
            yield event

    async def ImageToCode(self, request: pb.ImageToCodeRequest, context) -> pb.ImageToCodeResponse:
        async with self._call("ImageToCode", context, request.request_id) as deadline:
            async for event in self._image_to_code(request, deadline):
                if isinstance(event, pb.ImageToCodeResponse):
                    return event
        return pb.ImageToCodeResponse()  # not reached: _call aborted

    async def ImageToCodeStream(self, request: pb.ImageToCodeRequest, context):
        async with self._call("ImageToCodeStream", context, request.request_id) as deadline:
            async for event in self._image_to_code(request, deadline):
                if isinstance(event, pb.ImageToCodeResponse):
                    yield pb.ImageToCodeEvent(result=event)
                else:
                    yield pb.ImageToCodeEvent(progress=event)

    # --- Render -----------------------------------------------------------------------------

    async def Render(self, request: sandbox_pb2.RenderRequest, context) -> sandbox_pb2.RenderResponse:
        async with self._call("Render", context, request.request_id) as deadline:
            self._check_code(request.code, "program")
            return await self.renderer.render(request, deadline)
        return sandbox_pb2.RenderResponse()

    # --- GetGenerator -----------------------------------------------------------------------

    async def GetGenerator(self, request: pb.GetGeneratorRequest, context) -> pb.Generator:
        # The same two strings ImageToCodeResponse carries (pipeline.py), so a listing matches the answers.
        return pb.Generator(backend=self.backend.name, model=self.backend.model)

    # --- Score ------------------------------------------------------------------------------

    async def Score(self, request: pb.ScoreRequest, context) -> pb.ScoreResponse:
        async with self._call("Score", context, request.request_id) as deadline:
            return await self._score(request, deadline)
        return pb.ScoreResponse()

    async def _score(self, request: pb.ScoreRequest, deadline: Deadline) -> pb.ScoreResponse:
        self._check_code(request.candidate_code, "candidate program")
        self._check_code(request.reference_code, "reference program", required=False)
        plan = self._render_plan(request.dpi, request.render_timeout_seconds)
        has_reference_code = bool(request.reference_code.strip())
        if not request.reference_image and not has_reference_code:
            raise _invalid("give the reference image, the reference program, or both", ErrorCode.EMPTY_IMAGE)
        reference_image = await self._decode(request.reference_image, "reference image") \
            if request.reference_image else None

        def render(code: str):
            return self.renderer.render(sandbox_pb2.RenderRequest(
                code=code, request_id=request.request_id,
                options=sandbox_pb2.RenderOptions(dpi=plan.dpi, timeout_seconds=plan.timeout_s)), deadline)

        started = time.monotonic()
        renders = [render(request.candidate_code)] + ([render(request.reference_code)] if has_reference_code else [])
        candidate, *reference = await asyncio.gather(*renders)
        reference = reference[0] if reference else None
        response = pb.ScoreResponse(candidate_status=CANDIDATE_STATUS_OF_RENDER[candidate.status],
                                    candidate_detail=render_detail(candidate))
        response.timings.render_seconds = time.monotonic() - started
        if reference is not None:
            response.reference_status = CANDIDATE_STATUS_OF_RENDER[reference.status]
        reference_ok = reference is not None and reference.status == sandbox_pb2.RENDER_STATUS_OK \
            and bool(reference.figures)
        if reference_image is None and not reference_ok:
            raise _invalid(f"the reference program did not render ({reference.detail}) and no reference image "
                           "was given: nothing to compare with")
        reference_trace = parse_trace(reference.trace_json) if reference_ok else None
        with_trace = reference_trace is not None
        if candidate.status == sandbox_pb2.RENDER_STATUS_OK and candidate.figures:
            response.candidate_render_png = candidate.figures[0].data
            candidate_trace = parse_trace(candidate.trace_json)
            traces = {}
            if with_trace and candidate_trace is not None:
                traces = dict(reference_trace=reference_trace, candidate_trace=candidate_trace)
            limit = self.settings.max_image_pixels

            def compare() -> FidelityReport:   # the image already decoded is not decoded again
                target = reference_image.on_white() if reference_image is not None else reference.figures[0].data
                return score(prepare_reference(target, max_pixels=limit), response.candidate_render_png,
                             max_pixels=limit, **traces)

            started = time.monotonic()
            report = await asyncio.to_thread(compare)
            response.timings.score_seconds = time.monotonic() - started
            self.metrics.fidelity.labels(report.mode).observe(report.aggregate)
        else:
            report = zero_report(with_trace=with_trace)
            if candidate.status == sandbox_pb2.RENDER_STATUS_OK:
                response.candidate_status = pb.CANDIDATE_STATUS_NO_FIGURE
        response.fidelity.CopyFrom(fidelity_to_proto(report))
        return response
