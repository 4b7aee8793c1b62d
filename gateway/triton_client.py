"""The gateway's one door to Triton: KServe v2 over gRPC with deadlines and bounded retries.

Only failures to *reach* Triton are retried (the request never ran); a request that
reached a model is never repeated. Readiness is cached (gateway/readiness.py): no
readiness call on the request path while Triton answers. Errors go through the one Triton error
map (services/triton/errors.py): Triton-side client faults arrive as "[<error code>] message" and
become the same typed PerceptError the gateway would have raised itself.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from services.common.errors import ErrorCode, PerceptError
from services.common.grpc_channels import METADATA_TIMEOUT_S, channel_options
from services.models.tokenfd import ink_words
from services.models.tokenfd.query_matches import UPSTREAM, Decoding
from services.models.tokenfd.triton import contract
from services.triton.errors import map_triton_exception

from . import observability
from .readiness import ReadinessCache
from .settings import GatewaySettings


@dataclass(frozen=True)
class LocateOutput:
    similarity: np.ndarray        # (T, 128*rows, 128*cols)
    token_ids: list[int]
    token_texts: list[str]
    grid: tuple[int, int]         # (cols, rows)
    num_tiles: int
    image_size: tuple[int, int]   # (width, height)
    letters: ink_words.Letters | None = None   # a spelled query's letters' maps and pieces


@dataclass(frozen=True)
class ModelInfo:
    triton_name: str
    model_name: str
    model_id: str
    # The cosine threshold the served checkpoint records (tokenfd_locate's `threshold` parameter);
    # None when it records none.
    threshold: float | None = None
    # How its maps are read (the `decoding` parameter); upstream's reading when it records none.
    decoding: Decoding = UPSTREAM


def _threshold(value: str | None) -> float | None:
    """A model's recorded threshold parameter; None when absent or not a cosine similarity (the builder
    writes only valid ones, so a bad one is a hand-edited repository: ignored, never a failed request)."""
    try:
        threshold = float(value) if value else None
    except ValueError:
        return None
    return threshold if threshold is not None and -1.0 <= threshold <= 1.0 else None


def _decoding(value: str | None) -> Decoding:
    """A model's recorded decoding parameter; upstream's reading when absent or unreadable (as a bad
    threshold: the builder writes only valid ones)."""
    try:
        return Decoding.from_json(json.loads(value)) if value else UPSTREAM
    except ValueError:   # json.JSONDecodeError is one
        return UPSTREAM


# Large inputs (images) and outputs (stitched maps) exceed gRPC's 4 MiB default; the reconnect
# backoff is capped (services/common/grpc_channels.py), so the gateway is back within about a
# second of a restarted Triton.
_CHANNEL_ARGS = channel_options(256 * 1024 * 1024)


class TritonClient:
    def __init__(self, url: str, *, timeout_s: float, retries: int, retry_backoff_s: float) -> None:
        self.url = url
        self._timeout_s = timeout_s
        self._retries = retries
        self._retry_backoff_s = retry_backoff_s
        self._client = grpcclient.InferenceServerClient(self.url, channel_args=_CHANNEL_ARGS)
        self._model_info: dict[str, ModelInfo] = {}
        self.readiness = ReadinessCache(self._is_model_ready)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> "TritonClient":
        return cls(settings.triton_url, timeout_s=settings.triton_timeout_s, retries=settings.triton_retries,
                   retry_backoff_s=settings.triton_retry_backoff_s)

    @property
    def grpc(self) -> grpcclient.InferenceServerClient:
        """The channel, shared with the generation client (gateway/generation.py)."""
        return self._client

    async def close(self) -> None:
        await self._client.close()

    async def _infer(self, model: str, make_call):
        """One inference with the configured deadline; retry only connection failures.

        The upstream-latency histogram observes inferences only (never readiness calls)."""
        delay = self._retry_backoff_s
        for attempt in range(self._retries + 1):
            start = time.perf_counter()
            try:
                result = await make_call()
            except InferenceServerException as exc:
                error = map_triton_exception(exc)
                observability.UPSTREAM_LATENCY.labels(model, error.code.value).observe(time.perf_counter() - start)
                if error.code is ErrorCode.UPSTREAM_UNAVAILABLE and attempt < self._retries:
                    observability.UPSTREAM_RETRIES.labels(model).inc()
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                if error.code is ErrorCode.UPSTREAM_UNAVAILABLE:
                    self._mark_unready(model)
                raise error from exc
            observability.UPSTREAM_LATENCY.labels(model, "ok").observe(time.perf_counter() - start)
            self.readiness.record(model, True)
            return result
        raise AssertionError("unreachable")

    async def _metadata(self, kind: str, make_call):
        """A readiness or config call: one attempt, a short deadline, counted apart from inferences."""
        observability.UPSTREAM_CHECKS.labels(kind).inc()
        try:
            return await make_call()
        except InferenceServerException as exc:
            raise map_triton_exception(exc) from exc

    def _mark_unready(self, model: str) -> None:
        self.readiness.record(model, False)
        self._model_info.pop(model, None)  # a restarted Triton may serve another version

    async def _require_ready(self, model: str) -> None:
        if not await self.readiness.ensure_ready(model):
            raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, f"the inference server's {model} is not ready")

    async def locate(self, image: bytes, query: str, *, max_tiles: int | None, request_id: str) -> LocateOutput:
        """The query's maps, and a one-word query's letters' maps when the served model spells it (its record)."""
        await self._require_ready(contract.TOKENFD_LOCATE)
        inputs = [grpcclient.InferInput(contract.LOC_IMAGE, [1], "BYTES"),
                  grpcclient.InferInput(contract.LOC_QUERY, [1], "BYTES")]
        inputs[0].set_data_from_numpy(np.array([image], dtype=np.object_))
        inputs[1].set_data_from_numpy(np.array([query.encode("utf-8")], dtype=np.object_))
        if max_tiles is not None:
            tiles = grpcclient.InferInput(contract.LOC_MAX_TILES, [1], "INT32")
            tiles.set_data_from_numpy(np.array([max_tiles], dtype=np.int32))
            inputs.append(tiles)
        result = await self._infer(contract.TOKENFD_LOCATE, lambda: self._client.infer(
            contract.TOKENFD_LOCATE, inputs, request_id=request_id, client_timeout=self._timeout_s))
        texts = result.as_numpy(contract.LOC_TOKEN_TEXTS)
        grid = result.as_numpy(contract.LOC_GRID)
        size = result.as_numpy(contract.LOC_IMAGE_SIZE)
        letter_texts = result.as_numpy(contract.LOC_LETTER_TEXTS)
        letters = None if letter_texts is None or not letter_texts.size else ink_words.Letters(
            result.as_numpy(contract.LOC_LETTER_SIMILARITY), [_text(t) for t in letter_texts])
        return LocateOutput(
            similarity=result.as_numpy(contract.LOC_SIMILARITY),
            token_ids=[int(i) for i in result.as_numpy(contract.LOC_TOKEN_IDS)],
            token_texts=[_text(t) for t in texts],
            grid=(int(grid[0]), int(grid[1])),
            num_tiles=int(result.as_numpy(contract.LOC_NUM_TILES)[0]),
            image_size=(int(size[0]), int(size[1])),
            letters=letters,
        )

    async def model_info(self, triton_name: str) -> ModelInfo:
        """Name, id, recorded threshold and decoding of a served model, from its config parameters; fetched once,
        then cached (until Triton is seen unavailable: a restarted one may serve another checkpoint)."""
        cached = self._model_info.get(triton_name)
        if cached is not None:
            return cached
        try:
            config = await self._metadata("model_config", lambda: self._client.get_model_config(
                triton_name, as_json=True, client_timeout=METADATA_TIMEOUT_S))
        except PerceptError as error:
            if error.code is ErrorCode.UPSTREAM_UNAVAILABLE:
                self._mark_unready(triton_name)
            raise
        params = config.get("config", {}).get("parameters", {})
        info = ModelInfo(triton_name, params.get("model_name", {}).get("string_value", triton_name),
                         params.get("model_id", {}).get("string_value", "unknown"),
                         _threshold(params.get(contract.LOC_THRESHOLD_PARAMETER, {}).get("string_value")),
                         _decoding(params.get(contract.LOC_DECODING_PARAMETER, {}).get("string_value")))
        self._model_info[triton_name] = info
        return info

    async def _is_model_ready(self, triton_name: str) -> bool:
        try:
            return bool(await self._metadata("model_ready", lambda: self._client.is_model_ready(
                triton_name, client_timeout=METADATA_TIMEOUT_S)))
        except PerceptError:
            return False

    async def model_ready(self, triton_name: str) -> bool:
        """A live readiness call (for probes and /v1/models); its answer refreshes the cache."""
        ready = await self._is_model_ready(triton_name)
        if ready:
            self.readiness.record(triton_name, True)
        else:
            self._mark_unready(triton_name)
        return ready

    async def server_ready(self) -> bool:
        try:
            return bool(await self._metadata("server_ready", lambda: self._client.is_server_ready(
                client_timeout=METADATA_TIMEOUT_S)))
        except PerceptError:
            return False


def _text(value) -> str:
    """One element of a BYTES output as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
