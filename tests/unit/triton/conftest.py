"""A stand-in for the python-backend stub's `triton_python_backend_utils`, so the shared glue
(services/triton/python_backend.py) is tested without a server: it records what a model sends.
The real stub runs in tests/integration (triton, tokenvl, gateway), which prove the same paths
against tritonserver."""
from __future__ import annotations

import importlib
import sys
import types

import numpy as np
import pytest


class TritonError:
    UNKNOWN, INTERNAL, NOT_FOUND, INVALID_ARG, UNAVAILABLE, UNSUPPORTED, ALREADY_EXISTS, CANCELLED = range(8)

    def __init__(self, message, code=INTERNAL):
        self._message, self._code = message, code

    def message(self):
        return self._message

    def code(self):
        return self._code


class Tensor:
    def __init__(self, name, value):
        self._name, self._value = name, np.asarray(value)

    def name(self):
        return self._name

    def as_numpy(self):
        return self._value


class InferenceResponse:
    def __init__(self, output_tensors=(), error=None):
        self.output_tensors, self._error = list(output_tensors), error

    def has_error(self):
        return self._error is not None

    def error(self):
        return self._error

    def outputs(self):
        return {tensor.name(): tensor.as_numpy() for tensor in self.output_tensors}


class Metric:
    def __init__(self):
        self.value = 0.0

    def set(self, value):
        self.value = value

    def increment(self, value):
        self.value += value


class MetricFamily:
    GAUGE, COUNTER = "gauge", "counter"
    families: dict = {}

    def __init__(self, name, kind, description):
        self.name, self.metrics = name, []
        MetricFamily.families[name] = self

    def Metric(self, labels):  # noqa: N802 - the stub's spelling
        metric = Metric()
        self.metrics.append(metric)
        return metric


class Sender:
    """A decoupled request's response sender: what was sent, with its flags."""

    def __init__(self, cancel_after=None):
        self.sent, self.cancel_after = [], cancel_after

    def send(self, response, flags=0):
        self.sent.append((response, flags))

    def is_cancelled(self):
        return self.cancel_after is not None and len(self.sent) >= self.cancel_after


class Request:
    def __init__(self, inputs=None, sender=None, request_id="r1"):
        self.inputs = {name: Tensor(name, value) for name, value in (inputs or {}).items()}
        self.sender, self._id = sender or Sender(), request_id

    def request_id(self):
        return self._id

    def get_response_sender(self):
        return self.sender


class InferenceRequest:
    """A BLS request; `answer` (set by a test) is the callee's response for a request."""

    answer = staticmethod(lambda request: InferenceResponse())

    def __init__(self, model_name, requested_output_names, inputs):
        self.model_name, self.requested_output_names, self.inputs = model_name, requested_output_names, inputs

    def exec(self):
        return InferenceRequest.answer(self)


def make_stub() -> types.ModuleType:
    stub = types.ModuleType("triton_python_backend_utils")
    stub.TritonError, stub.Tensor, stub.InferenceResponse = TritonError, Tensor, InferenceResponse
    stub.InferenceRequest, stub.MetricFamily = InferenceRequest, MetricFamily
    stub.TRITONSERVER_RESPONSE_COMPLETE_FINAL = 1
    stub.ready_models = set()
    stub.is_model_ready = lambda model_name, model_version="": model_name in stub.ready_models
    stub.get_input_tensor_by_name = lambda request, name: request.inputs.get(name)
    stub.get_output_tensor_by_name = lambda response, name: next(
        (t for t in response.output_tensors if t.name() == name), None)
    stub.Request, stub.Sender = Request, Sender   # what Triton hands a model, for the tests
    stub.logged = []
    stub.Logger = types.SimpleNamespace(log_error=stub.logged.append)
    return stub


@pytest.fixture
def stub(monkeypatch):
    """The stand-in module, installed for this test; `stub.backend` is python_backend bound to it."""
    module = make_stub()
    MetricFamily.families = {}
    InferenceRequest.answer = staticmethod(lambda request: InferenceResponse())
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", module)
    monkeypatch.delitem(sys.modules, "services.triton.python_backend", raising=False)
    module.backend = importlib.import_module("services.triton.python_backend")
    yield module
    sys.modules.pop("services.triton.python_backend", None)
