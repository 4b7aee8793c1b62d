"""`/v1/stem/*`: STEM images as code, over the code-perception gRPC service.

image-to-code writes a matplotlib program for an image (best of N candidates, each
rendered and scored), render runs a program in the sandbox, score compares a program
with a reference image (and code). Faults of the service arrive as PerceptErrors
(services/common/grpc_errors.py, through the service's client): a full sandbox pool is a
429, an unreachable service a 503, both with Retry-After; never a 500. A client that goes away
cancels the call, its renders with it (gateway/disconnect.py; streamed: gateway/sse.py).
"""
from __future__ import annotations

from contextlib import aclosing

from fastapi import APIRouter, Depends, Request

from services.codeperception.client import CodePerceptionClient
from services.common.errors import ErrorCode, PerceptError

from .. import sse, stem_convert
from ..dependencies import get_codeperception, get_request_id, get_settings
from ..disconnect import until_disconnected
from ..openapi import request_body
from ..schemas import ErrorResponse
from ..settings import GatewaySettings
from ..stem_inputs import ImageToCodeInput, ScoreInput, read_image_to_code_input, read_render_input, read_score_input
from ..stem_schemas import (
    ImageToCodeJsonRequest,
    ImageToCodeMultipartRequest,
    ImageToCodeResponse,
    RenderFields,
    RenderJsonRequest,
    RenderMultipartRequest,
    RenderResponse,
    ScoreJsonRequest,
    ScoreMultipartRequest,
    ScoreResponse,
)

router = APIRouter(prefix="/v1/stem", tags=["stem"])

_ERRORS = {status: {"model": ErrorResponse} for status in (400, 413, 415, 422, 429, 503, 504)}
_EVENT_STREAM = {200: {"content": {sse.MEDIA_TYPE: {"schema": {
    "type": "string", "description": "With `stream: true`: `progress` events, then one `result` (or `error`) "
                                     "event; see docs/api.md."}}}}}


@router.post(
    "/image-to-code",
    response_model=ImageToCodeResponse,
    summary="Write matplotlib code that reproduces a STEM image",
    description="Generates `candidates` programs for the image, renders each in the sandbox, scores each "
                "render against the image with deterministic metrics and returns the best, its render, its "
                "scores and a caption built from its execution trace. With `stream: true` the answer is a "
                "server-sent event stream of progress events ending with the result.",
    responses={**_ERRORS, **_EVENT_STREAM, 404: {"model": ErrorResponse, "description": "The `reference` backend "
                                                                               "does not hold this image."}},
    openapi_extra=request_body(form=ImageToCodeMultipartRequest, json=ImageToCodeJsonRequest),
)
async def image_to_code(http: Request,
                        parsed: ImageToCodeInput = Depends(read_image_to_code_input),
                        client: CodePerceptionClient = Depends(get_codeperception),
                        settings: GatewaySettings = Depends(get_settings),
                        request_id: str = Depends(get_request_id)):
    request = stem_convert.image_to_code_request(parsed.image, parsed.options, request_id)
    timeout_s = settings.codeperception_timeout_s
    if not parsed.options.stream:
        response = await until_disconnected(http.receive, client.image_to_code(request, timeout_s=timeout_s))
        return stem_convert.image_to_code_response(response, request_id)
    # sse.respond awaits the first event before the status line, so a request the service refuses
    # (bad image, full pool, service down) still gets its typed 4xx/429/503 instead of a stream.
    return await sse.respond(http.receive, _events(client.image_to_code_stream(request, timeout_s=timeout_s),
                                                   request_id), request_id=request_id)


async def _events(stream, request_id: str):
    async with aclosing(_ending_with_a_result(stream)) as events:
        async for event in events:
            yield _as_sse(event, request_id)


async def _ending_with_a_result(events):
    """The service's events; a stream that ends without its result is an upstream fault, not a 500."""
    finished = False
    try:
        async for event in events:
            finished = event.WhichOneof("event") == "result"
            yield event
    finally:
        await _close(events)
    if not finished:
        raise PerceptError(ErrorCode.UPSTREAM_ERROR, "the code-perception service ended the stream without a result")


def _as_sse(event, request_id: str) -> bytes:
    if event.WhichOneof("event") == "result":
        return sse.model_event("result", stem_convert.image_to_code_response(event.result, request_id))
    return sse.model_event("progress", stem_convert.progress_event(event.progress))


async def _close(events) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


@router.post(
    "/render",
    response_model=RenderResponse,
    summary="Run a plotting program in the sandbox",
    description="Returns the figures (base64), the execution trace, the status, the stdout and stderr tails "
                "and the resource usage. Whatever the program does (raise, time out, draw nothing) is a "
                "status, never an HTTP error.",
    responses=_ERRORS,
    openapi_extra=request_body(form=RenderMultipartRequest, json=RenderJsonRequest),
)
async def render(http: Request,
                 options: RenderFields = Depends(read_render_input),
                 client: CodePerceptionClient = Depends(get_codeperception),
                 settings: GatewaySettings = Depends(get_settings),
                 request_id: str = Depends(get_request_id)) -> RenderResponse:
    response = await until_disconnected(http.receive, client.render(
        stem_convert.render_request(options, request_id), timeout_s=settings.codeperception_timeout_s))
    return stem_convert.render_response(response, request_id)


@router.post(
    "/score",
    response_model=ScoreResponse,
    summary="Score a program against a reference image (and code)",
    description="Renders the candidate program (and the reference program, when given: it enables the "
                "trace metrics) and returns the deterministic fidelity metrics.",
    responses=_ERRORS,
    openapi_extra=request_body(form=ScoreMultipartRequest, json=ScoreJsonRequest),
)
async def score(http: Request,
                parsed: ScoreInput = Depends(read_score_input),
                client: CodePerceptionClient = Depends(get_codeperception),
                settings: GatewaySettings = Depends(get_settings),
                request_id: str = Depends(get_request_id)) -> ScoreResponse:
    response = await until_disconnected(http.receive, client.score(
        stem_convert.score_request(parsed.reference_image, parsed.options, request_id),
        timeout_s=settings.codeperception_timeout_s))
    return stem_convert.score_response(response, request_id)
