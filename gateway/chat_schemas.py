"""OpenAI-compatible chat completions: the request, the response and the stream's chunks
(the subset of OpenAI's chat API the platform serves; see docs/api.md).

The request says exactly what is served, so a client generated from the OpenAPI document sends
only what is accepted: messages are told apart by `role` (system and developer, user, assistant),
content parts by `type` (text; image_url only in user messages), and no text may carry the
model's image placeholder. A role or a part type outside these is refused as
`unsupported_content` (gateway/chat_convert.py names the field).
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.triton.generation import IMAGE_PLACEHOLDER, MAX_STOP_STRINGS

from .schemas import BASE64_TEXT, EXAMPLE_IMAGE_BASE64, MIN_TOP_P


def _without_placeholder(text: str) -> str:
    if IMAGE_PLACEHOLDER in text:  # it would bind an image that is not there
        raise ValueError(f"text may not contain {IMAGE_PLACEHOLDER!r} (the model's image placeholder); send "
                         "images as image_url parts")
    return text


PromptText = Annotated[str, AfterValidator(_without_placeholder),
                       Field(json_schema_extra={"not": {"pattern": re.escape(IMAGE_PLACEHOLDER)}})]


def _any_case(word: str) -> str:
    """`word` matched in any letter case, spelled out (JSON Schema's regular expressions have no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


# A data: URI image as gateway/image_urls.py reads it: `data:`, an optional image/* media type, optional
# parameters, `;base64,` and the base64 data (schemas.BASE64_TEXT); the scheme, `image` and `base64` in any
# case. With no image-URL allow-list (the default) the document states it as the URL's pattern (gateway/app.py).
MEDIA_TOKEN = r"[A-Za-z0-9_.+-]+"
DATA_URI_HEADER = (rf"{_any_case('data:')}(?P<type>{MEDIA_TOKEN}/{MEDIA_TOKEN})?"
                   rf"(?P<params>(?:;{MEDIA_TOKEN}={MEDIA_TOKEN})*)(?P<b64>;{_any_case('base64')})?,")
DATA_URI_PATTERN = (rf"^{_any_case('data:')}(?:{_any_case('image/')}{MEDIA_TOKEN})?(?:;{MEDIA_TOKEN}={MEDIA_TOKEN})*"
                    rf";{_any_case('base64')},{BASE64_TEXT}$")


class ImageURL(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="A `data:image/...;base64,` URI, or an http(s) URL whose origin is on "
                                 "PERCEPT_GATEWAY_IMAGE_URL_ALLOWLIST (with none on it, the document states the "
                                 "data: URI's pattern).")
    detail: Literal["auto", "low", "high"] = Field("auto", description="Accepted for compatibility; the model "
                                                                       "tiles every image the same way.")


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]
    text: PromptText


class ImagePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["image_url"]
    image_url: ImageURL


UserPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class InstructionMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "developer"] = Field(description="`developer` is taken as `system`.")
    content: PromptText | list[TextPart]
    name: str | None = Field(None, description="Accepted; not used.")


class UserMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user"]
    content: PromptText | list[UserPart]
    name: str | None = Field(None, description="Accepted; not used.")


class AssistantTurn(BaseModel):
    """An earlier answer of the assistant, as context."""
    model_config = ConfigDict(extra="forbid")

    role: Literal["assistant"]
    content: PromptText | list[TextPart]
    name: str | None = Field(None, description="Accepted; not used.")


ChatMessage = Annotated[InstructionMessage | UserMessage | AssistantTurn, Field(discriminator="role")]
StopString = Annotated[str, Field(min_length=1)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "model": "tokenvl", "max_tokens": 8, "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{EXAMPLE_IMAGE_BASE64}"}},
            {"type": "text", "text": "What does this document say?"}]}]}]})

    model: str = Field(description="A model listed by GET /v1/models (its id, or its Triton name).")
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, description="Most tokens to generate (default: the model's).")
    max_completion_tokens: int | None = Field(None, ge=1, description="Same as max_tokens (wins when both are set).")
    temperature: float | None = Field(None, ge=0, le=2, description="0: greedy.")
    top_p: float | None = Field(None, ge=MIN_TOP_P, le=1)
    top_k: int | None = Field(None, ge=0, le=2**31 - 1, description="Extension: top-k sampling (0: off).")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Makes sampling reproducible (0 or more).")
    stop: StopString | Annotated[list[StopString], Field(max_length=MAX_STOP_STRINGS)] | None = Field(
        None, description=f"A stop string, or up to {MAX_STOP_STRINGS}.")
    n: int | None = Field(None, ge=1, le=1, description="Only 1 is served.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(None, description="Accepted; not used.")


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str = Field(description="stop or length.")
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` event of a streamed completion (`stream: true`); the stream ends with `data: [DONE]`."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
