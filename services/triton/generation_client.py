"""One async client for the generation contract (services/triton/generation.py): typed options
in, a stream of text deltas out, finish reason and token usage on the last one.

Used by every caller of a generation model (the gateway's chat completions and document VQA,
the code-perception service's `triton` backend), so the request is built, the stream read and
a Triton error mapped in one place:

* errors go through the one Triton error map (services/triton/errors.py): the model's own
  refusals arrive as "[code] message" and are raised as `ModelError`, a PerceptError with that
  code (a client fault stays a 4xx); failing to reach Triton is UPSTREAM_UNAVAILABLE, a passed
  deadline UPSTREAM_TIMEOUT (both carry a retry hint); any other stream failure is UPSTREAM_ERROR;
* when the caller stops reading (it closes the generator, or its task is cancelled because
  its HTTP client went away), the gRPC stream is cancelled, so the model stops generating.
  Consume `stream()` inside `contextlib.aclosing` so an early `break` closes it at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Sequence

import grpc
import numpy as np
import tritonclient.grpc.aio as triton_aio
from tritonclient.utils import InferenceServerException

from services.common.errors import ErrorCode, PerceptError
from services.common.grpc_channels import METADATA_TIMEOUT_S

from . import generation as contract
from .errors import ModelError, map_triton_error, map_triton_exception

_UPSTREAM = "the generation model"  # what failed, in the messages of services/triton/errors.py's map


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: exactly one of `prompt` (a single user instruction; the images go before it)
    and `messages` (chat turns whose `<image>` placeholders take the images in order)."""

    prompt: str | None = None
    messages: Sequence[contract.Turn] | None = None
    images: Sequence[bytes] = ()
    max_tokens: int | None = None       # None: the model's default
    temperature: float | None = None    # 0: greedy
    top_p: float | None = None
    top_k: int | None = None            # None or 0: no top-k
    seed: int | None = None
    stop: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt and messages")


@dataclass(frozen=True)
class GenerationChunk:
    """One response of the stream."""

    text: str                 # generated since the previous chunk
    finish_reason: str        # "" until the last chunk; then "stop", "length" or "error"
    prompt_tokens: int
    completion_tokens: int    # so far


def _tensor(spec: contract.TensorSpec, array: np.ndarray) -> triton_aio.InferInput:
    value = triton_aio.InferInput(spec.name, list(array.shape), "BYTES" if spec.data_type == contract.BYTES
                                  else spec.data_type)
    value.set_data_from_numpy(array)
    return value


def build_inputs(request: GenerationRequest) -> list[triton_aio.InferInput]:
    """The contract's input tensors for a request; optional ones only when set."""
    inputs = []
    if request.prompt is not None:
        inputs.append(_tensor(contract.PROMPT, np.array([request.prompt.encode("utf-8")], dtype=object)))
    else:
        inputs.append(_tensor(contract.MESSAGES, np.array([contract.encode_messages(request.messages)],
                                                          dtype=object)))
    if request.images:
        inputs.append(_tensor(contract.IMAGES, np.array(list(request.images), dtype=object)))
    scalars = ((contract.MAX_TOKENS, request.max_tokens, np.int32), (contract.TEMPERATURE, request.temperature,
               np.float32), (contract.TOP_P, request.top_p, np.float32), (contract.TOP_K, request.top_k, np.int32),
               (contract.SEED, request.seed, np.int64))
    for spec, value, dtype in scalars:
        if value is not None:
            inputs.append(_tensor(spec, np.array([value], dtype=dtype)))
    if request.stop:
        inputs.append(_tensor(contract.STOP, np.array([s.encode("utf-8") for s in request.stop], dtype=object)))
    return inputs


def model_error(message: str) -> ModelError:
    """An error response of the stream: the model's "[code] message", or UPSTREAM_ERROR untyped."""
    error = map_triton_error(message, upstream=_UPSTREAM)
    return error if isinstance(error, ModelError) else ModelError(error.code, error.message)


def _transport_error(exc: Exception) -> PerceptError:
    return map_triton_exception(exc, upstream=_UPSTREAM)


def _scalar(result, spec: contract.TensorSpec, default):
    value = result.as_numpy(spec.name)
    return default if value is None or value.size == 0 else value.reshape(-1)[0]


def _chunk(result) -> GenerationChunk:
    text = _scalar(result, contract.TEXT_DELTA, b"")
    finish = _scalar(result, contract.FINISH_REASON, b"")
    return GenerationChunk(
        text=text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text),
        finish_reason=finish.decode() if isinstance(finish, bytes) else str(finish),
        prompt_tokens=int(_scalar(result, contract.PROMPT_TOKENS, 0)),
        completion_tokens=int(_scalar(result, contract.COMPLETION_TOKENS, 0)))


class GenerationClient:
    """Streams generations from Triton's models that implement the contract.

    `client` is a tritonclient.grpc.aio InferenceServerClient; the caller owns it (and closes it)."""

    def __init__(self, client: triton_aio.InferenceServerClient) -> None:
        self._client = client
        self._limits: dict[str, contract.ModelLimits] = {}

    async def stream(self, model: str, request: GenerationRequest, *, timeout_s: float,
                     request_id: str = "") -> AsyncIterator[GenerationChunk]:
        """The chunks of one generation, the last with its finish reason; raises PerceptError.

        Leaving early (close, or cancellation of the consuming task) cancels the gRPC stream."""
        inputs = build_inputs(request)

        async def requests():
            yield {"model_name": model, "inputs": inputs, "request_id": request_id}

        try:
            responses = self._client.stream_infer(requests(), stream_timeout=timeout_s)
        except (InferenceServerException, grpc.RpcError) as exc:
            raise _transport_error(exc) from None
        finished = False
        try:
            while not finished:
                try:
                    result, error = await responses.__anext__()
                except StopAsyncIteration:
                    raise PerceptError(ErrorCode.UPSTREAM_ERROR,
                                       "the generation stream ended without a finish reason") from None
                except (InferenceServerException, grpc.RpcError) as exc:
                    finished = True  # the call is over; nothing to cancel
                    raise _transport_error(exc) from None
                if error is not None:
                    finished = True
                    raise model_error(error.message() or str(error))
                chunk = _chunk(result)
                finished = bool(chunk.finish_reason)
                yield chunk
        finally:
            if not finished:
                responses.cancel()  # the caller went away: the model stops generating

    async def limits(self, model: str) -> contract.ModelLimits:
        """The model's context length, image cap and id, from its config; fetched once, then cached."""
        cached = self._limits.get(model)
        if cached is not None:
            return cached
        try:
            response = await self._client.get_model_config(model, client_timeout=METADATA_TIMEOUT_S)
        except InferenceServerException as exc:
            raise _transport_error(exc) from None
        try:
            limits = contract.model_limits(response.config)
        except ValueError as exc:
            raise PerceptError(ErrorCode.UPSTREAM_ERROR, f"the generation model is misconfigured: {exc}") from None
        self._limits[model] = limits
        return limits

    def forget(self, model: str) -> None:
        """Drop the cached limits (a restarted Triton may serve another version)."""
        self._limits.pop(model, None)
