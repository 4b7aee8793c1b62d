"""OpenAI-compatible chat completions: the request, the response and the stream's chunks
(the subset of OpenAI's chat API the platform serves; see docs/api.md).

Content parts are typed loosely here (`type` is any string) so that an unsupported part is
answered with the stable `unsupported_content` code (gateway/chat_convert.py) rather than a
generic schema error.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .schemas import EXAMPLE_IMAGE_BASE64


class ImageURL(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="A `data:image/...;base64,` URI, or an http(s) URL whose origin is on "
                                 "PERCEPT_GATEWAY_IMAGE_URL_ALLOWLIST.")
    detail: Literal["auto", "low", "high"] = Field("auto", description="Accepted for compatibility; the model "
                                                                       "tiles every image the same way.")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`text` or `image_url`; any other type is refused (unsupported_content).")
    text: str | None = None
    image_url: ImageURL | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="system, developer (as system), user or assistant.")
    content: str | list[ContentPart] | None = None
    name: str | None = Field(None, description="Accepted; not used.")


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
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=0, le=2**31 - 1, description="Extension: top-k sampling (0: off).")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Makes sampling reproducible (0 or more).")
    stop: str | list[str] | None = Field(None, description="Up to 4 stop strings.")
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
