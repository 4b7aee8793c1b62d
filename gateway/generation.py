"""The gateway's generations: which model a request names, its limits, and one stream per
request with its metrics (time to first token, tokens, outcome, streams in flight).

Both generation routes (chat completions, document VQA) go through `Generations`, over the one
generation client (services/triton/generation_client.py) on the gateway's Triton channel. The
configured model (PERCEPT_GATEWAY_GENERATION_MODEL) answers requests that name no model (and VQA);
a chat request may name any model family's chat model (services/models/registry.py).
"""
from __future__ import annotations

import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import AsyncIterator

from services.common.errors import ErrorCode, PerceptError
from services.models import registry
from services.models.family import ModelTask
from services.triton import generation as contract
from services.triton.generation_client import GenerationChunk, GenerationClient, GenerationRequest

from . import observability
from .triton_client import TritonClient


@dataclass(frozen=True)
class ServedModel:
    triton_name: str
    name: str
    model_id: str
    limits: contract.ModelLimits

    def answers_to(self, requested: str) -> bool:
        return requested in (self.triton_name, self.model_id, self.name)


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token_s: float | None
    generation_s: float


class Generations:
    def __init__(self, triton: TritonClient, triton_model: str, *, timeout_s: float) -> None:
        self.triton_model = triton_model  # the default
        # Read once, at start-up: a PERCEPT_MODEL_FAMILIES naming no family stops the gateway here.
        others = [name for name in registry.models_with_task(ModelTask.chat) if name != triton_model]
        self.triton_models = (triton_model, *others)
        self._triton = triton
        self._client = GenerationClient(triton.grpc)
        self._timeout_s = timeout_s
        # A loaded model's name, revision and limits do not change: read once, like the limits
        # themselves, instead of a metadata round trip to Triton on every request.
        self._served_models: dict[str, ServedModel] = {}

    async def model(self, requested: str | None = None) -> ServedModel:
        """The generation model `requested` names (by served name, Triton name or revision), the
        configured one when None; 404 unknown_model when no chat model answers to it, 503 when
        one that might is not being served."""
        if requested is None or requested in self.triton_models:
            return await self._served(requested or self.triton_model)
        unavailable = None
        for triton_model in self.triton_models:
            try:
                served = await self._served(triton_model)
            except PerceptError as error:
                if error.code is not ErrorCode.UPSTREAM_UNAVAILABLE:
                    raise
                unavailable = unavailable or error
                continue
            if served.answers_to(requested):
                return served
        if unavailable is not None:
            raise unavailable
        raise PerceptError(ErrorCode.UNKNOWN_MODEL, f"the model {requested!r} does not exist here; "
                           "GET /v1/models lists the served ones", details={"param": "model"})

    async def _served(self, triton_model: str) -> ServedModel:
        cached = self._served_models.get(triton_model)
        if cached is not None:
            return cached
        try:
            limits = await self._client.limits(triton_model)
            info = await self._triton.model_info(triton_model)
        except PerceptError as error:
            if error.code is ErrorCode.UPSTREAM_UNAVAILABLE:
                raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE,
                                   f"the generation model {triton_model} is not being served") from None
            raise
        served = self._served_models[triton_model] = ServedModel(triton_model, info.model_name, limits.model_id,
                                                                 limits)
        return served

    async def stream(self, endpoint: str, request: GenerationRequest, request_id: str,
                     model: str | None = None) -> AsyncIterator[GenerationChunk]:
        """The chunks of one generation by Triton model `model` (the configured one when None),
        measured; leaving early cancels it in Triton."""
        model = model or self.triton_model
        start = time.perf_counter()
        first_text, outcome, last = True, "cancelled", None
        observability.GENERATIONS_IN_FLIGHT.labels(model).inc()
        try:
            async with aclosing(self._client.stream(model, request, timeout_s=self._timeout_s,
                                                    request_id=request_id)) as chunks:
                async for chunk in chunks:
                    if first_text and chunk.text:
                        first_text = False
                        observability.GENERATION_TTFT.labels(model, endpoint).observe(time.perf_counter() - start)
                    last = chunk
                    if chunk.finish_reason == "error":
                        raise PerceptError(ErrorCode.UPSTREAM_ERROR, "the generation model failed mid-answer")
                    if chunk.finish_reason:
                        outcome = chunk.finish_reason
                    yield chunk
        except PerceptError as error:
            outcome = error.code.value
            raise
        finally:
            observability.GENERATIONS_IN_FLIGHT.labels(model).dec()
            observability.GENERATIONS.labels(model, endpoint, outcome).inc()
            if last is not None and last.finish_reason:
                observability.GENERATION_TOKENS.labels(model, "prompt").inc(last.prompt_tokens)
                observability.GENERATION_TOKENS.labels(model, "completion").inc(last.completion_tokens)

    async def complete(self, endpoint: str, request: GenerationRequest, request_id: str,
                       model: str | None = None) -> Completion:
        answer = Answer()
        async with aclosing(self.stream(endpoint, request, request_id, model)) as chunks:
            async for chunk in chunks:
                answer.add(chunk)
        return answer.completion()


class Answer:
    """A generation's chunks gathered as they pass (the whole answer, or a stream relayed piece by
    piece): the text, the time to its first text and the last chunk's finish and usage."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._parts: list[str] = []
        self._first_at: float | None = None
        self._last: GenerationChunk | None = None

    def add(self, chunk: GenerationChunk) -> None:
        if self._first_at is None and chunk.text:
            self._first_at = time.perf_counter() - self._start
        self._parts.append(chunk.text)
        self._last = chunk

    def completion(self) -> Completion:
        last = self._last
        if last is None or not last.finish_reason:  # the client raises first; a relay may have stopped early
            raise PerceptError(ErrorCode.UPSTREAM_ERROR, "the generation model ended the stream without an answer")
        return Completion("".join(self._parts), last.finish_reason, last.prompt_tokens, last.completion_tokens,
                          self._first_at, time.perf_counter() - self._start)

