"""A small gRPC streaming client of the generation contract for these tests (tritonclient)."""
from __future__ import annotations

import queue
from dataclasses import dataclass, field

import numpy as np
import tritonclient.grpc as grpcclient

from services.triton import generation as contract

_TYPES = {contract.BYTES: "BYTES"}


@dataclass
class Result:
    deltas: list[str] = field(default_factory=list)
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    token_ids: list[int] = field(default_factory=list)   # the model's TOKEN_IDS output, concatenated

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def inputs(**values) -> list:
    """Contract inputs by name (PROMPT=..., IMAGES=[...], MAX_TOKENS=...)."""
    tensors = []
    for name, value in values.items():
        if value is None:
            continue
        spec = next(t for t in contract.GENERATION.inputs if t.name == name)
        if spec.data_type == contract.BYTES:
            items = value if isinstance(value, (list, tuple)) else [value]
            array = np.array([v.encode() if isinstance(v, str) else v for v in items], dtype=np.object_)
        else:
            array = np.array([value], dtype={"INT32": np.int32, "INT64": np.int64, "FP32": np.float32}[spec.data_type])
        tensor = grpcclient.InferInput(name, list(array.shape), _TYPES.get(spec.data_type, spec.data_type))
        tensor.set_data_from_numpy(array)
        tensors.append(tensor)
    return tensors


class StreamClient:
    def __init__(self, url: str) -> None:
        self.client = grpcclient.InferenceServerClient(url)
        self.responses: queue.Queue = queue.Queue()
        self.client.start_stream(callback=lambda result, error: self.responses.put((result, error)))
        self.count = 0

    def send(self, model: str = contract.TOKENVL_MODEL, **values) -> None:
        self.count += 1
        self.client.async_stream_infer(model, inputs(**values), request_id=str(self.count))

    def next(self, timeout_s: float = 60.0):
        return self.responses.get(timeout=timeout_s)

    def collect(self, timeout_s: float = 120.0) -> Result:
        """Responses of one request until its final one (or its error)."""
        result = Result()
        while True:
            response, error = self.next(timeout_s)
            if error is not None:
                result.error = error.message()
                return result
            result.deltas.append(response.as_numpy(contract.TEXT_DELTA.name)[0].decode("utf-8"))
            ids = response.as_numpy("TOKEN_IDS")
            result.token_ids += [] if ids is None else ids.tolist()
            result.prompt_tokens = int(response.as_numpy(contract.PROMPT_TOKENS.name)[0])
            result.completion_tokens = int(response.as_numpy(contract.COMPLETION_TOKENS.name)[0])
            result.finish_reason = response.as_numpy(contract.FINISH_REASON.name)[0].decode()
            if result.finish_reason:
                return result

    def collect_all(self, count: int, timeout_s: float = 120.0) -> dict[str, Result]:
        """Responses of `count` requests in flight at once, by request id, until each has ended."""
        results: dict[str, Result] = {}
        done: set[str] = set()
        self.arrival: list[str] = []
        while len(done) < count:
            response, error = self.next(timeout_s)
            if error is not None:
                raise AssertionError(f"a request failed: {error.message()}")
            request_id = response.get_response().id
            self.arrival.append(request_id)
            result = results.setdefault(request_id, Result())
            result.deltas.append(response.as_numpy(contract.TEXT_DELTA.name)[0].decode("utf-8"))
            result.completion_tokens = int(response.as_numpy(contract.COMPLETION_TOKENS.name)[0])
            result.finish_reason = response.as_numpy(contract.FINISH_REASON.name)[0].decode()
            if result.finish_reason:
                done.add(request_id)
        return results

    def generate(self, **values) -> Result:
        self.send(**values)
        return self.collect()

    def cancel(self) -> None:
        self.client.stop_stream(cancel_requests=True)

    def close(self) -> None:
        try:
            self.client.stop_stream(cancel_requests=True)
        finally:
            self.client.close()
