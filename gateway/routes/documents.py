"""`POST /v1/documents/vqa`: a question about a document (page images, or a PDF rendered here) ->
the answer, which pages it read, the token usage and the timings. Errors in the platform's shape.
With `stream` the answer's text goes out as server-sent events while the model writes it, then the
whole response (gateway/sse.py); a client that goes away cancels the generation, streamed or not."""
from __future__ import annotations

import time
from contextlib import aclosing

from fastapi import APIRouter, Depends, Request

from services.triton.generation_client import GenerationRequest

from .. import sse
from ..dependencies import get_generations, get_request_id
from ..disconnect import until_disconnected
from ..generation import Answer, Completion, Generations, ServedModel
from ..generation_limits import check_context, check_image_count
from ..openapi import request_body
from ..schemas import ErrorResponse, ModelRef
from ..vqa_inputs import VqaInput, read_vqa_input
from ..vqa_schemas import VqaDelta, VqaJsonRequest, VqaMultipartRequest, VqaResponse, VqaTimings, VqaUsage

router = APIRouter(prefix="/v1/documents", tags=["documents"])

_ERRORS = {status: {"model": ErrorResponse} for status in (400, 413, 415, 422, 429, 502, 503)}
_EVENT_STREAM = {200: {"content": {sse.MEDIA_TYPE: {"schema": {
    "type": "string", "description": "With `stream: true`: `delta` events (the answer's text as it is "
                                     "generated), then one `result` (or `error`) event; see docs/api.md."}}}}}
ENDPOINT = "vqa"


@router.post(
    "/vqa",
    response_model=VqaResponse,
    summary="Answer a question about a document (images or a PDF)",
    description="Send page images (repeat the `images` field, or a JSON list of base64 strings) or one PDF "
                "(`pdf`; pages rendered server-side, select them with `pages`), and a `question`. The answer "
                "comes with the pages it read, the token usage and the timings. With `stream: true` the "
                "answer is a server-sent event stream of the answer's text as it is generated, ending with "
                "the response. Limits: docs/api.md.",
    responses={**_ERRORS, **_EVENT_STREAM},
    openapi_extra=request_body(form=VqaMultipartRequest, json=VqaJsonRequest),
)
async def vqa(request: Request,
              parsed: VqaInput = Depends(read_vqa_input),
              generations: Generations = Depends(get_generations),
              request_id: str = Depends(get_request_id)):
    start = time.perf_counter()
    options = parsed.options
    model = await generations.model()
    # The gateway's caps were checked as the body was read (vqa_inputs); the model's are checked here.
    check_image_count(len(parsed.images), model.limits.max_images, "images")
    check_context(options.max_tokens, model.limits, "max_tokens")
    generation = GenerationRequest(prompt=options.question, images=parsed.images, max_tokens=options.max_tokens,
                                   temperature=options.temperature, top_p=options.top_p, top_k=options.top_k,
                                   seed=options.seed)
    if not options.stream:
        done = await until_disconnected(request.receive, generations.complete(ENDPOINT, generation, request_id))
        return _response(parsed, model, done, start, request_id)
    # sse.respond awaits the first event before the status line, so a request the model refuses
    # (an over-long prompt, an image only its full decode finds bad) is still a typed 4xx.
    return await sse.respond(request.receive, _events(generations, generation, parsed, model, start, request_id),
                             request_id=request_id)


async def _events(generations: Generations, generation: GenerationRequest, parsed: VqaInput, model: ServedModel,
                  start: float, request_id: str):
    """One `delta` event per piece of text the model streams, then the `result`: the same body as
    the answer without `stream`. Leaving early closes the generation stream, which cancels it in Triton."""
    answer = Answer()
    async with aclosing(generations.stream(ENDPOINT, generation, request_id)) as chunks:
        async for chunk in chunks:
            answer.add(chunk)
            if chunk.text:
                yield sse.model_event("delta", VqaDelta(text=chunk.text))
    yield sse.model_event("result", _response(parsed, model, answer.completion(), start, request_id))


def _response(parsed: VqaInput, model: ServedModel, done: Completion, start: float, request_id: str) -> VqaResponse:
    return VqaResponse(
        request_id=request_id,
        model=ModelRef(name=model.name, id=model.model_id, triton_model=model.triton_name),
        question=parsed.options.question, answer=done.text, finish_reason=done.finish_reason, pages=parsed.pages,
        usage=VqaUsage(prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                       total_tokens=done.prompt_tokens + done.completion_tokens),
        timings=VqaTimings(intake_s=parsed.read_s, time_to_first_token_s=done.time_to_first_token_s,
                           generation_s=done.generation_s,
                           total_s=parsed.read_s + time.perf_counter() - start))
