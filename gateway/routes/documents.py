"""`POST /v1/documents/vqa`: a question about a document (page images, or a PDF rendered here) ->
the answer, which pages it read, the token usage and the timings. Errors in the platform's shape."""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request

from services.triton.generation_client import GenerationRequest

from ..dependencies import get_generations, get_request_id
from ..disconnect import until_disconnected
from ..generation import Generations
from ..generation_limits import check_context, check_image_count
from ..openapi import request_body
from ..schemas import ErrorResponse, ModelRef
from ..vqa_inputs import VqaInput, read_vqa_input
from ..vqa_schemas import VqaJsonRequest, VqaMultipartRequest, VqaResponse, VqaTimings, VqaUsage

router = APIRouter(prefix="/v1/documents", tags=["documents"])

_ERRORS = {status: {"model": ErrorResponse} for status in (400, 413, 415, 422, 429, 502, 503)}
ENDPOINT = "vqa"


@router.post(
    "/vqa",
    response_model=VqaResponse,
    summary="Answer a question about a document (images or a PDF)",
    description="Send page images (repeat the `images` field, or a JSON list of base64 strings) or one PDF "
                "(`pdf`; pages rendered server-side, select them with `pages`), and a `question`. The answer "
                "comes with the pages it read, the token usage and the timings. Limits: docs/api.md.",
    responses=_ERRORS,
    openapi_extra=request_body(form=VqaMultipartRequest, json=VqaJsonRequest),
)
async def vqa(request: Request,
              parsed: VqaInput = Depends(read_vqa_input),
              generations: Generations = Depends(get_generations),
              request_id: str = Depends(get_request_id)) -> VqaResponse:
    start = time.perf_counter()
    options = parsed.options
    model = await generations.model()
    # The gateway's caps were checked as the body was read (vqa_inputs); the model's are checked here.
    check_image_count(len(parsed.images), model.limits.max_images, "images")
    check_context(options.max_tokens, model.limits, "max_tokens")
    generation = GenerationRequest(prompt=options.question, images=parsed.images, max_tokens=options.max_tokens,
                                   temperature=options.temperature, top_p=options.top_p, top_k=options.top_k,
                                   seed=options.seed)
    done = await until_disconnected(request.receive, generations.complete(ENDPOINT, generation, request_id))
    return VqaResponse(
        request_id=request_id,
        model=ModelRef(name=model.name, id=model.model_id, triton_model=model.triton_name),
        question=options.question, answer=done.text, finish_reason=done.finish_reason, pages=parsed.pages,
        usage=VqaUsage(prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                       total_tokens=done.prompt_tokens + done.completion_tokens),
        timings=VqaTimings(intake_s=parsed.read_s, time_to_first_token_s=done.time_to_first_token_s,
                           generation_s=done.generation_s,
                           total_s=parsed.read_s + time.perf_counter() - start))
