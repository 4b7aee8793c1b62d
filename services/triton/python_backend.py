"""The python-backend glue every model_repository/*/model.py shares, so that a model.py states
only what is its own: what it loads (`setup`) and how it answers (`run`, `run_batch`, `stream`).

* `ModelArgs`: Triton's `initialize` args, parsed once (name, directories, config parameters).
* `PythonBackendModel`: one response per request. Each failed request gets its own error, never the
  whole batch: a PerceptError keeps its code, anything else is `internal` with the traceback in
  the server log.
* `DecoupledModel`: each request on a worker of a pool, a stream of responses, the last flagged
  final. A request whose client left (or a finalize) stops at its next response and closes its
  stream; a gauge counts the requests not ended (queued included) and a counter those stopped,
  so a test can prove none leaked.
* `bls`: one call to another model; its error is typed by the callee's state and Triton error
  code (services/triton/errors.py), never by the words of its message.

Triton's stub imports model.py with the stub's environment (services/triton/stubenv.py: the
repository root is on its path), and model.py imports this module. `triton_python_backend_utils`
exists only inside the stub: tests put a stand-in into sys.modules first. The stub defines
TritonError's codes only after model.py is imported, so they are looked up when used.
"""
from __future__ import annotations

import json
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import triton_python_backend_utils as pb_utils

from services.common.errors import ErrorCode, PerceptError
from services.triton.errors import bls_error, triton_code_name, triton_error_message

Outputs = Mapping[str, np.ndarray]   # output tensor name -> value

# The python backend's TritonError codes, by attribute name (see `_code_name`).
_CODE_NAMES = ("UNKNOWN", "INTERNAL", "NOT_FOUND", "INVALID_ARG", "UNAVAILABLE", "UNSUPPORTED",
               "ALREADY_EXISTS", "CANCELLED")


@dataclass(frozen=True)
class ModelArgs:
    """What Triton passes to `initialize`: the model's name, its directory in the repository,
    its version directory and its config's parameters (string values)."""

    name: str
    model_dir: Path
    version_dir: Path
    params: Mapping[str, str]

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> "ModelArgs":
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        model_dir = Path(args["model_repository"])
        return cls(args["model_name"], model_dir, model_dir / args["model_version"], params)

    def integer(self, key: str) -> int:
        """A parameter the repository builder always writes (no second default here)."""
        return int(self.params[key])

    def flag(self, key: str) -> bool:
        return self.params[key] == "true"


# --- tensors and responses ----------------------------------------------------------------

def input_array(request, name: str) -> np.ndarray | None:
    """An input tensor's value; None when the (optional) input is absent."""
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()


def single_value(request, name: str, *, required: bool = True):
    """The one element of a [1] input; a missing required input or another size is invalid_request."""
    values = input_array(request, name)
    if values is None:
        if required:
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"input {name} is missing")
        return None
    values = values.reshape(-1)
    if values.size != 1:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"input {name} must hold one element, got {values.size}")
    return values[0]


def output_response(outputs: Outputs):
    return pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(name, value) for name, value in outputs.items()])


def error_response(error: PerceptError):
    """The request's error: "[code] message" with the python backend's matching code."""
    code = getattr(pb_utils.TritonError, triton_code_name(error))
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(triton_error_message(error), code))


def _code_name(code) -> str:
    for name in _CODE_NAMES:
        if getattr(pb_utils.TritonError, name, None) == code:
            return name
    return "UNKNOWN"


def _is_ready(model: str) -> bool:
    try:
        return bool(pb_utils.is_model_ready(model))
    except Exception:  # noqa: BLE001 - an unknown model is not ready
        return False


def bls(model: str, inputs: Outputs, outputs: Sequence[str]) -> list[np.ndarray]:
    """One BLS call to `model`: its `outputs`, in order; a failure raises the typed error."""
    response = pb_utils.InferenceRequest(
        model_name=model, requested_output_names=list(outputs),
        inputs=[pb_utils.Tensor(name, value) for name, value in inputs.items()]).exec()
    if response.has_error():
        error = response.error()
        raise bls_error(model, _code_name(error.code()), error.message(), callee_ready=lambda: _is_ready(model))
    return [pb_utils.get_output_tensor_by_name(response, name).as_numpy() for name in outputs]


# --- models -------------------------------------------------------------------------------

class PythonBackendModel:
    """initialize / execute / finalize of a model that answers each request once.

    A subclass implements `setup(args)` and `run(request) -> Outputs`, or `run_batch(requests)`
    when it answers a batch at once (one Outputs or exception per request, in order)."""

    name = "model"

    def initialize(self, args) -> None:
        parsed = ModelArgs.parse(args)
        self.name = parsed.name
        self.setup(parsed)

    def setup(self, args: ModelArgs) -> None:
        raise NotImplementedError

    def run(self, request) -> Outputs:
        raise NotImplementedError

    def run_batch(self, requests: Sequence) -> list[Outputs | Exception]:
        results: list[Outputs | Exception] = []
        for request in requests:
            try:
                results.append(self.run(request))
            except Exception as exc:  # noqa: BLE001 - one failed request never fails the batch
                results.append(exc)
        return results

    def execute(self, requests):
        return [error_response(self.typed(request, result)) if isinstance(result, Exception)
                else output_response(result)
                for request, result in zip(requests, self.run_batch(requests), strict=True)]

    def typed(self, request, exc: Exception) -> PerceptError:
        """The request's error as a PerceptError; server-side faults get a log line."""
        if isinstance(exc, PerceptError):
            if exc.http_status >= 500:  # ours or an upstream's: worth a log line
                pb_utils.Logger.log_error(f"{self.name} {request.request_id()!r}: {exc!r}")
            return exc
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        pb_utils.Logger.log_error(f"{self.name} {request.request_id()!r}: {details}")
        return PerceptError(ErrorCode.INTERNAL, f"{self.name} failed: {type(exc).__name__}")

    def teardown(self) -> None:
        """Release what `setup` loaded."""

    def finalize(self) -> None:
        self.teardown()


class DecoupledModel(PythonBackendModel):
    """A decoupled model (model_transaction_policy { decoupled: true }): each request streams.

    A subclass implements `setup(args)` and `stream(request, cancelled) -> Iterator[(Outputs,
    final)]`; it checks `cancelled()` between responses and returns early when it is true. The
    pool has `workers` threads (the subclass sets it in `setup`); requests beyond wait their turn."""

    in_flight_metric = "percept_requests_in_flight"
    cancelled_metric = "percept_requests_cancelled_total"
    workers = 1

    def initialize(self, args) -> None:
        super().initialize(args)
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
        # Guards the counts, and every call on a metric: the python backend's metric calls are not safe
        # from several threads at once (concurrent increments crashed tritonserver in a lock_exception).
        self.lock = threading.Lock()
        self.in_flight = 0
        self.stopping = threading.Event()   # set by finalize: running streams end at their next response
        # The families must outlive their metrics (the backend refuses a metric of a deleted family).
        self.metric_families = (
            pb_utils.MetricFamily(name=self.in_flight_metric, kind=pb_utils.MetricFamily.GAUGE,
                                  description="Requests started and not yet ended (queued included)"),
            pb_utils.MetricFamily(name=self.cancelled_metric, kind=pb_utils.MetricFamily.COUNTER,
                                  description="Requests stopped because the client left"))
        labels = {"model": self.name}
        self.gauge = self.metric_families[0].Metric(labels=labels)
        self.cancelled_total = self.metric_families[1].Metric(labels=labels)

    def stream(self, request, cancelled) -> Iterator[tuple[Outputs, bool]]:
        raise NotImplementedError

    def execute(self, requests):
        for request in requests:
            self._track(+1)
            self.pool.submit(self._serve, request, request.get_response_sender())
        return None

    def _track(self, delta: int) -> None:
        with self.lock:
            self.in_flight += delta
            self.gauge.set(self.in_flight)

    def _serve(self, request, sender) -> None:
        ended = []

        def end():   # before the final response goes out, so a client that has it sees the gauge drop
            if not ended:
                ended.append(True)
                self._track(-1)

        streamed = None
        try:
            finished = False
            cancelled = lambda: self.stopping.is_set() or sender.is_cancelled()  # noqa: E731
            # A request still queued when finalize came is closed at once, never dropped unanswered.
            streamed = None if cancelled() else self.stream(request, cancelled)
            for outputs, finished in streamed or ():
                if finished:
                    end()
                sender.send(output_response(outputs),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if finished else 0)
                if finished:
                    break
            if not finished:   # cancelled: close the stream (the client is gone; nothing more is read)
                with self.lock:   # metric calls one at a time (see `lock`)
                    self.cancelled_total.increment(1)
                end()
                self._send_last(sender, pb_utils.InferenceResponse(error=pb_utils.TritonError(
                    "cancelled", pb_utils.TritonError.CANCELLED)))
        except Exception as exc:  # noqa: BLE001 - one failed request never fails the others
            error = self.typed(request, exc)
            end()
            self._send_last(sender, error_response(error))
        finally:
            # closed here, not whenever it is collected: what it holds (a row of a batch others wait on)
            # is given up now
            getattr(streamed, "close", lambda: None)()
            end()

    @staticmethod
    def _send_last(sender, response) -> None:
        try:
            sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        except Exception:  # noqa: BLE001 - the stream may already be closed (cancelled)
            pass

    def finalize(self) -> None:
        self.stopping.set()
        self.pool.shutdown(wait=True)   # queued requests run, see `stopping` and close their streams
        self.teardown()
