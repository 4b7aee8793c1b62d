"""An OpenAI chat request as a generation-contract request (services/triton/generation.py):
messages become MESSAGES turns with one `<image>` placeholder per image part, in order, and the
images become IMAGES; the limits (images per request, pixels, max_tokens, the model's context)
are checked here, each refused with a typed 4xx naming the field (`param`).
"""
from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import ErrorCode, PerceptError
from services.common.images import check_image_header
from services.triton import generation as contract
from services.triton.generation_client import GenerationRequest

from .chat_schemas import ChatCompletionRequest
from .image_urls import ImageFetcher

MAX_STOP_STRINGS = 4  # OpenAI's limit
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class ImageRef:
    url: str
    param: str  # where it is in the request, e.g. messages.0.content.1.image_url


@dataclass(frozen=True)
class ChatPrompt:
    turns: list[contract.Turn]
    images: list[ImageRef]


def _unsupported(message: str, param: str) -> PerceptError:
    return PerceptError(ErrorCode.UNSUPPORTED_CONTENT, message, details={"param": param})


def _text(text: str, param: str) -> str:
    if contract.IMAGE_PLACEHOLDER in text:  # it would bind an image that is not there
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"text may not contain {contract.IMAGE_PLACEHOLDER!r} "
                           "(it is the model's image placeholder); send images as image_url parts",
                           details={"param": param})
    return text


def chat_prompt(request: ChatCompletionRequest) -> ChatPrompt:
    """The turns and the image references of the messages; a part the model cannot take is unsupported_content."""
    turns, images = [], []
    for m, message in enumerate(request.messages):
        param = f"messages.{m}"
        role = _ROLES.get(message.role)
        if role is None:
            raise _unsupported(f"messages of role {message.role!r} are not supported (system, developer, user, "
                               "assistant)", f"{param}.role")
        if message.content is None:
            raise PerceptError(ErrorCode.INVALID_REQUEST, "a message needs content", details={"param": param})
        if isinstance(message.content, str):
            turns.append(contract.Turn(role, _text(message.content, f"{param}.content")))
            continue
        pieces = []
        for p, part in enumerate(message.content):
            part_param = f"{param}.content.{p}"
            if part.type == "text" and part.text is not None:
                pieces.append(_text(part.text, f"{part_param}.text"))
            elif part.type == "image_url" and part.image_url is not None:
                if role != "user":
                    raise _unsupported("images go only in user messages", part_param)
                pieces.append(contract.IMAGE_PLACEHOLDER)
                images.append(ImageRef(part.image_url.url, f"{part_param}.image_url"))
            elif part.type in ("text", "image_url"):
                raise PerceptError(ErrorCode.INVALID_REQUEST, f"a {part.type} part needs its `{part.type}` field",
                                   details={"param": part_param})
            else:
                raise _unsupported(f"content parts of type {part.type!r} are not supported (text, image_url)",
                                   f"{part_param}.type")
        turns.append(contract.Turn(role, "\n".join(pieces)))
    return ChatPrompt(turns, images)


def check_image_count(count: int, gateway_max: int, limits: contract.ModelLimits, param: str) -> None:
    most = min(gateway_max, limits.max_images)
    if count > most:
        raise PerceptError(ErrorCode.TOO_MANY_IMAGES, f"the request has {count} images; the limit is {most}",
                           details={"param": param, "max_images": most})


def check_max_tokens(max_tokens: int | None, gateway_max: int, limits: contract.ModelLimits, param: str) -> None:
    if max_tokens is None:
        return
    if max_tokens > gateway_max:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"{param} is {max_tokens}; the limit is {gateway_max}",
                           details={"param": param})
    if max_tokens >= limits.context_length:
        raise PerceptError(ErrorCode.CONTEXT_LENGTH_EXCEEDED, f"{param} is {max_tokens}; the model's context is "
                           f"{limits.context_length} tokens, prompt included", details={"param": param})


def stop_strings(stop: str | list[str] | None) -> tuple[str, ...]:
    strings = (stop,) if isinstance(stop, str) else tuple(stop or ())
    if len(strings) > MAX_STOP_STRINGS or any(not s for s in strings):
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"stop takes up to {MAX_STOP_STRINGS} non-empty strings",
                           details={"param": "stop"})
    return strings


async def generation_request(request: ChatCompletionRequest, *, limits: contract.ModelLimits, fetcher: ImageFetcher,
                             max_images: int, max_tokens: int, max_pixels: int) -> GenerationRequest:
    """The contract request, every limit checked (images counted before any is fetched)."""
    prompt = chat_prompt(request)
    check_image_count(len(prompt.images), max_images, limits, "messages")
    wanted = request.max_completion_tokens or request.max_tokens
    check_max_tokens(wanted, max_tokens, limits,
                     "max_completion_tokens" if request.max_completion_tokens else "max_tokens")
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
