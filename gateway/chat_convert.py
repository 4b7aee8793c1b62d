"""An OpenAI chat request as a generation-contract request (services/triton/generation.py):
messages become MESSAGES turns with one `<image>` placeholder per image part, in order, and the
images become IMAGES; the limits (images per request, pixels, max_tokens, the model's context)
are checked here, each refused with a typed 4xx naming the field (`param`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from services.common.errors import ErrorCode, PerceptError
from services.common.images import check_image_header
from services.triton import generation as contract
from services.triton.generation_client import GenerationRequest

from .chat_schemas import ChatCompletionRequest, ImagePart
from .generation_limits import check_context, check_image_count, check_max_tokens
from .image_urls import ImageFetcher

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# What a refused role or part type looks like in a validation error: a tag the union does not know,
# or the wrong literal where a part's `type` must be `text`.
_UNSUPPORTED_ERRORS = {"union_tag_invalid", "union_tag_not_found", "literal_error"}


@dataclass(frozen=True)
class ImageRef:
    url: str
    param: str  # where it is in the request, e.g. messages.0.content.1.image_url


@dataclass(frozen=True)
class ChatPrompt:
    turns: list[contract.Turn]
    images: list[ImageRef]


def _param(loc: tuple, payload: Any) -> str:
    """The error's place in the request as the client wrote it (`messages.0.content.1`): pydantic's
    location also names union branches (`user`, `str`, `list[...]`), which are not in the request."""
    kept, node = [], payload
    for step in loc:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            continue
        kept.append(str(step))
    return ".".join(kept)


def _most_telling(errors: list[dict]) -> dict:
    """Of a union's errors, the one about the content (a refused tag, a bad value) rather than the
    branch whose type did not match at all (`Input should be a valid string`)."""
    def rank(error: dict) -> tuple:
        return (error["type"] in _UNSUPPORTED_ERRORS, not error["type"].endswith("_type"), len(error["loc"]))
    return max(errors, key=rank)


def request_error(exc: ValidationError, body: bytes) -> PerceptError:
    """The typed refusal of a chat request that does not match the schema, naming the field."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    error = _most_telling(exc.errors())
    param = _param(error["loc"], payload)
    if error["type"] == "missing":  # the field is not in the request: name it after its parent
        param = ".".join(filter(None, (param, str(error["loc"][-1]))))
    if error["type"] in _UNSUPPORTED_ERRORS and (param.endswith((".role", ".type")) or "discriminator" in
                                                 error.get("ctx", {})):
        field = param if param.endswith((".role", ".type")) else \
            f"{param}.{str(error['ctx']['discriminator']).strip(chr(39))}"
        return PerceptError(ErrorCode.UNSUPPORTED_CONTENT, f"{field} is not supported: {error['msg']}",
                            details={"param": field})
    where = f" ({param})" if param else ""
    return PerceptError(ErrorCode.INVALID_REQUEST, f"invalid request: {error['msg']}{where}",
                        details={"param": param or None})


def parse_chat_request(body: bytes) -> ChatCompletionRequest:
    try:
        return ChatCompletionRequest.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise request_error(exc, body) from None


def chat_prompt(request: ChatCompletionRequest) -> ChatPrompt:
    """The turns and the image references of the messages (the schema has already refused what the
    model cannot take: other roles and part types, images outside user messages, the placeholder)."""
    turns, images = [], []
    for m, message in enumerate(request.messages):
        role = _ROLES[message.role]
        if isinstance(message.content, str):
            turns.append(contract.Turn(role, message.content))
            continue
        pieces = []
        for p, part in enumerate(message.content):
            if isinstance(part, ImagePart):
                pieces.append(contract.IMAGE_PLACEHOLDER)
                images.append(ImageRef(part.image_url.url, f"messages.{m}.content.{p}.image_url"))
            else:
                pieces.append(part.text)
        turns.append(contract.Turn(role, "\n".join(pieces)))
    return ChatPrompt(turns, images)


def stop_strings(stop: str | list[str] | None) -> tuple[str, ...]:
    """The stop strings as a tuple (the schema holds them to MAX_STOP_STRINGS non-empty strings)."""
    return (stop,) if isinstance(stop, str) else tuple(stop or ())


async def generation_request(request: ChatCompletionRequest, *, limits: contract.ModelLimits, fetcher: ImageFetcher,
                             max_images: int, max_tokens: int, max_pixels: int) -> GenerationRequest:
    """The contract request, every limit checked (images counted before any is fetched)."""
    prompt = chat_prompt(request)
    # The model is known here, so the gateway's cap and the model's are checked at once.
    check_image_count(len(prompt.images), min(max_images, limits.max_images), "messages")
    wanted = request.max_completion_tokens or request.max_tokens
    param = "max_completion_tokens" if request.max_completion_tokens else "max_tokens"
    check_max_tokens(wanted, max_tokens, param)
    check_context(wanted, limits, param)
    stop = stop_strings(request.stop)
    images = []
    for ref in prompt.images:
        data = await fetcher.image(ref.url, ref.param)
        try:
            check_image_header(data, max_pixels=max_pixels)
        except PerceptError as error:
            raise PerceptError(error.code, f"{ref.param}: {error.message}", details={"param": ref.param}) from None
        images.append(data)
    return GenerationRequest(messages=prompt.turns, images=images, max_tokens=wanted,
                             temperature=request.temperature, top_p=request.top_p, top_k=request.top_k,
                             seed=request.seed, stop=stop)
