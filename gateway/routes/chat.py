"""`POST /v1/chat/completions`: OpenAI-compatible chat over the served generation model.

Messages carry text parts and `image_url` parts (data: URIs; remote URLs only from allowed
origins). `stream: true` answers server-sent events, one `chat.completion.chunk` per `data:`
line, ending with `data: [DONE]`; with `stream_options.include_usage` the last chunk before it
carries the usage. Errors are in OpenAI's shape (gateway/openai_errors.py). A refusal (bad
input, unknown model, the model's own `[code]` refusal, Triton down) is answered before the
stream starts, as an ordinary status; a client that leaves mid-stream cancels the generation.
"""
from __future__ import annotations

import time
from contextlib import aclosing

from fastapi import APIRouter, Depends, Request

from services.common.errors import ErrorCode, PerceptError

from .. import sse
from ..chat_convert import generation_request, parse_chat_request
from ..chat_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
)
from ..dependencies import get_generations, get_image_fetcher, get_request_id, get_settings
from ..disconnect import until_disconnected
from ..generation import Generations
from ..image_urls import ImageFetcher
from ..inputs import read_body_capped
from ..openai_errors import OpenAIErrorResponse, OpenAIRoute, openai_error_body
from ..openapi import request_body
from ..settings import GatewaySettings

router = APIRouter(prefix="/v1", tags=["chat"], route_class=OpenAIRoute)

_ERRORS = {status: {"model": OpenAIErrorResponse} for status in (400, 404, 429, 502, 503)}
ENDPOINT = "chat"
# One server-sent event of a streamed answer (OpenAPI before 3.2: the schema of an event stream is
# the schema of each event, as a parser sees it: fields `data`, `event`, `id`, `retry`).
_EVENT = {"type": "object", "required": ["data"], "properties": {"data": {
    "type": "string", "description": "With `stream: true`: a `chat.completion.chunk` as JSON, or `[DONE]` (the "
                                     "last event), or `{\"error\": ...}` when the stream fails after it started."}}}


async def read_chat_request(request: Request,
                            settings: GatewaySettings = Depends(get_settings)) -> ChatCompletionRequest:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise PerceptError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"content type {content_type or '(none)'!r} is not "
                           "supported; send application/json")
    return parse_chat_request(await read_body_capped(request, settings.max_body_bytes))


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="Chat completion (OpenAI-compatible), streaming or not",
    description="OpenAI's chat completions API: text and `image_url` content parts; `stream: true` answers "
                "`chat.completion.chunk` server-sent events ending with `data: [DONE]`. Errors use OpenAI's "
                "error shape. See docs/api.md for the limits.",
    responses={**_ERRORS, 200: {"content": {sse.MEDIA_TYPE: {"schema": _EVENT}}}},
    openapi_extra=request_body(json=ChatCompletionRequest),
)
async def chat_completions(request: Request,
                           body: ChatCompletionRequest = Depends(read_chat_request),
                           generations: Generations = Depends(get_generations),
                           fetcher: ImageFetcher = Depends(get_image_fetcher),
                           settings: GatewaySettings = Depends(get_settings),
                           request_id: str = Depends(get_request_id)):
    model = await generations.model(body.model)
    generation = await generation_request(body, limits=model.limits, fetcher=fetcher, max_images=settings.max_images,
                                          max_tokens=settings.max_completion_tokens,
                                          max_pixels=settings.max_image_pixels)
    completion_id, created = f"chatcmpl-{request_id}", int(time.time())
    if not body.stream:
        done = await until_disconnected(request.receive, generations.complete(ENDPOINT, generation, request_id,
                                                                              model.triton_name))
        return ChatCompletion(
            id=completion_id, created=created, model=model.name,
            choices=[Choice(message=AssistantMessage(content=done.text), finish_reason=done.finish_reason)],
            usage=Usage(prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                        total_tokens=done.prompt_tokens + done.completion_tokens))

    def chunk(delta: Delta, finish: str | None = None, usage: Usage | None = None, choices: bool = True) -> bytes:
        return sse.data_event(ChatCompletionChunk(
            id=completion_id, created=created, model=model.name, usage=usage,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)] if choices else []))

    async def events():
        # The role chunk goes out once the model's first chunk is in: sse.respond awaits it before the
        # status line, so the model's refusal (too long a prompt, a bad image) is still a typed 400.
        async with aclosing(generations.stream(ENDPOINT, generation, request_id, model.triton_name)) as chunks:
            last = None
            async for item in chunks:
                if last is None:
                    yield chunk(Delta(role="assistant", content=""))
                last = item
                if item.text:
                    yield chunk(Delta(content=item.text))
        if last is None:
            raise PerceptError(ErrorCode.UPSTREAM_ERROR, "the generation model ended the stream without an answer")
        yield chunk(Delta(), finish=last.finish_reason)
        if body.stream_options is not None and body.stream_options.include_usage:
            yield chunk(Delta(), usage=Usage(prompt_tokens=last.prompt_tokens, completion_tokens=last.completion_tokens,
                                             total_tokens=last.prompt_tokens + last.completion_tokens), choices=False)
        yield sse.DONE

    return await sse.respond(request.receive, events(), request_id=request_id, as_event=_error_event)


def _error_event(error: PerceptError, request_id: str) -> bytes:
    """A failure after the status line, as OpenAI streams it: one `data:` line holding the error."""
    return sse.data_event({"error": openai_error_body(error)})
