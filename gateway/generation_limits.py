"""The limits of a generation request (chat completions, document VQA), one function each.

Two caps hold: the gateway's own (PERCEPT_GATEWAY_MAX_IMAGES, PERCEPT_GATEWAY_MAX_COMPLETION_TOKENS),
checked as the body is read, before any image is fetched or PDF page rendered; and the served model's
(`max_images` and `context_length` of its Triton config, services/triton/generation.py), checked once
the model is known. Each is checked once at the gateway; the model refuses the same values on its own
(it reads them from the same config) for a caller that reaches Triton directly.
"""
from __future__ import annotations

from services.common.errors import ErrorCode, PerceptError
from services.triton.generation import ModelLimits


def check_image_count(count: int, most: int, param: str) -> None:
    if count > most:
        raise PerceptError(ErrorCode.TOO_MANY_IMAGES, f"the request has {count} images; the limit is {most}",
                           details={"param": param, "max_images": most})


def check_max_tokens(max_tokens: int | None, most: int, param: str) -> None:
    """The gateway's cap on the tokens a request may ask for."""
    if max_tokens is not None and max_tokens > most:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"{param} is {max_tokens}; the limit is {most}",
                           details={"param": param})


def check_context(max_tokens: int | None, limits: ModelLimits, param: str) -> None:
    """The model's context holds the prompt and the answer: max_tokens alone must leave room."""
    if max_tokens is not None and max_tokens >= limits.context_length:
        raise PerceptError(ErrorCode.CONTEXT_LENGTH_EXCEEDED, f"{param} is {max_tokens}; the model's context is "
                           f"{limits.context_length} tokens, prompt included", details={"param": param})
