"""The gateway's one door to Triton: KServe v2 over gRPC with deadlines and bounded retries.

Only failures to *reach* Triton are retried (the request never ran); a request that
reached a model is never repeated. Triton-side client faults arrive as
"[<error code>] message" (services/triton/contract.py) and become the same typed
PerceptError the gateway would have raised itself.
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from services.common.errors import ErrorCode, PerceptError
from services.triton import contract

from . import observability, settings

_PREFIXED = re.compile(r"\[([a-z_]+)\]\s*(.*)", re.S)
_CONNECTION_STATUSES = {"StatusCode.UNAVAILABLE"}
_DEADLINE_STATUSES = {"StatusCode.DEADLINE_EXCEEDED"}


@dataclass(frozen=True)
class LocateOutput:
    similarity: np.ndarray        # (T, 128*rows, 128*cols)
    token_ids: list[int]
    token_texts: list[str]
    grid: tuple[int, int]         # (cols, rows)
    num_tiles: int
    image_size: tuple[int, int]   # (width, height)


@dataclass(frozen=True)
class ServedModel:
    triton_name: str
    model_name: str
    model_id: str
    ready: bool


def map_triton_error(exc: InferenceServerException) -> PerceptError:
    """A Triton error as the typed error the client should see."""
    status = str(exc.status() or "")
    message = exc.message() or str(exc)
    match = _PREFIXED.search(message)
    if match:
        try:
            code = ErrorCode(match.group(1))
        except ValueError:
            code = None
        if code is not None:
            return PerceptError(code, match.group(2).strip())
    if status in _CONNECTION_STATUSES:
        return PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, "the inference server is unavailable")
    if status in _DEADLINE_STATUSES:
        return PerceptError(ErrorCode.UPSTREAM_TIMEOUT, "the inference server did not answer in time")
    return PerceptError(ErrorCode.UPSTREAM_ERROR, f"the inference server failed: {message}")


class TritonClient:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.TRITON_URL.get()
        # Large inputs (images) and outputs (stitched maps) exceed gRPC's 4 MiB default.
        self._client = grpcclient.InferenceServerClient(self.url, channel_args=[
            ("grpc.max_send_message_length", 256 * 1024 * 1024),
            ("grpc.max_receive_message_length", 256 * 1024 * 1024),
        ])
        self._model_info: dict[str, ServedModel] = {}

    async def close(self) -> None:
        await self._client.close()

    async def _call(self, model: str, make_call):
        """Run one call with the configured deadline; retry only connection failures."""
        retries = settings.TRITON_RETRIES.get()
        delay = settings.TRITON_RETRY_BACKOFF_S.get()
        for attempt in range(retries + 1):
            start = time.perf_counter()
            try:
                result = await make_call()
            except InferenceServerException as exc:
                error = map_triton_error(exc)
                observability.UPSTREAM_LATENCY.labels(model, error.code.value).observe(time.perf_counter() - start)
                if error.code is ErrorCode.UPSTREAM_UNAVAILABLE and attempt < retries:
                    observability.UPSTREAM_RETRIES.labels(model).inc()
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                raise error from exc
            observability.UPSTREAM_LATENCY.labels(model, "ok").observe(time.perf_counter() - start)
            return result
        raise AssertionError("unreachable")

    async def locate(self, image: bytes, query: str, *, max_tiles: int | None, request_id: str) -> LocateOutput:
        inputs = [grpcclient.InferInput(contract.LOC_IMAGE, [1], "BYTES"),
                  grpcclient.InferInput(contract.LOC_QUERY, [1], "BYTES")]
        inputs[0].set_data_from_numpy(np.array([image], dtype=np.object_))
        inputs[1].set_data_from_numpy(np.array([query.encode("utf-8")], dtype=np.object_))
        if max_tiles is not None:
            tiles = grpcclient.InferInput(contract.LOC_MAX_TILES, [1], "INT32")
            tiles.set_data_from_numpy(np.array([max_tiles], dtype=np.int32))
            inputs.append(tiles)
        timeout = settings.TRITON_TIMEOUT_S.get()
        result = await self._call(contract.TOKENFD_LOCATE, lambda: self._client.infer(
            contract.TOKENFD_LOCATE, inputs, request_id=request_id, client_timeout=timeout))
        texts = result.as_numpy(contract.LOC_TOKEN_TEXTS)
        grid = result.as_numpy(contract.LOC_GRID)
        size = result.as_numpy(contract.LOC_IMAGE_SIZE)
        return LocateOutput(
            similarity=result.as_numpy(contract.LOC_SIMILARITY),
            token_ids=[int(i) for i in result.as_numpy(contract.LOC_TOKEN_IDS)],
            token_texts=[t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t) for t in texts],
            grid=(int(grid[0]), int(grid[1])),
            num_tiles=int(result.as_numpy(contract.LOC_NUM_TILES)[0]),
            image_size=(int(size[0]), int(size[1])),
        )

    async def model_info(self, triton_name: str) -> ServedModel:
        """Name, id and readiness of a served model (name and id come from its config parameters)."""
        timeout = 5.0
        ready = await self._call(triton_name, lambda: self._client.is_model_ready(
            triton_name, client_timeout=timeout))
        cached = self._model_info.get(triton_name)
        if cached is None or not cached.ready:
            if ready:
                config = await self._call(triton_name, lambda: self._client.get_model_config(
                    triton_name, as_json=True, client_timeout=timeout))
                params = config.get("config", {}).get("parameters", {})
                name = params.get("model_name", {}).get("string_value", triton_name)
                model_id = params.get("model_id", {}).get("string_value", "unknown")
                cached = ServedModel(triton_name, name, model_id, True)
                self._model_info[triton_name] = cached
            else:
                return ServedModel(triton_name, triton_name, "unknown", False)
        return ServedModel(cached.triton_name, cached.model_name, cached.model_id, bool(ready))

    async def server_ready(self) -> bool:
        try:
            return bool(await self._client.is_server_ready(client_timeout=2.0))
        except InferenceServerException:
            return False
