"""The shared python-backend glue (services/triton/python_backend.py) against the stub stand-in
of conftest.py: per-request errors by code, BLS errors by the callee's code and state, the
decoupled worker pool's cancellation and in-flight gauge."""
import json
import threading

import numpy as np
import pytest

from services.common.errors import ErrorCode, PerceptError
from services.triton.errors import error_from_triton_message
from services.triton.generation import CANCELLED_METRIC, IN_FLIGHT_METRIC


def _args(params=None, name="m"):
    config = {"parameters": {key: {"string_value": value} for key, value in (params or {}).items()}}
    return {"model_config": json.dumps(config), "model_repository": "/repo/m", "model_version": "1",
            "model_name": name}


def _typed(response):
    assert response.has_error()
    return error_from_triton_message(response.error().message())


def test_model_args_are_parsed_once(stub):
    args = stub.backend.ModelArgs.parse(_args({"max_tiles": "12", "warmup": "true"}, name="tokenfd_locate"))
    assert args.name == "tokenfd_locate" and str(args.version_dir) == "/repo/m/1"
    assert args.integer("max_tiles") == 12 and args.flag("warmup") is True
    with pytest.raises(KeyError):
        args.integer("absent")  # the builder writes every parameter: no silent default


def test_each_failed_request_gets_its_own_error_with_its_code(stub):
    class Model(stub.backend.PythonBackendModel):
        def setup(self, args):
            pass

        def run(self, request):
            value = stub.backend.single_value(request, "X")
            if value < 0:
                raise PerceptError(ErrorCode.INVALID_REQUEST, "negative")
            if value == 0:
                raise ZeroDivisionError("boom")
            return {"Y": np.array([value * 2])}

    model = Model()
    model.initialize(_args(name="doubler"))
    ok, refused, broken, missing = model.execute([stub.Request({"X": [3]}), stub.Request({"X": [-1]}),
                                                  stub.Request({"X": [0]}), stub.Request({})])
    assert not ok.has_error() and ok.outputs()["Y"].tolist() == [6]
    assert refused.error().code() == stub.TritonError.INVALID_ARG and _typed(refused).code is ErrorCode.INVALID_REQUEST
    assert broken.error().code() == stub.TritonError.INTERNAL
    assert _typed(broken).code is ErrorCode.INTERNAL and "ZeroDivisionError" in _typed(broken).message
    assert "boom" not in broken.error().message() and any("boom" in line for line in stub.logged)  # log only
    assert _typed(missing).message == "input X is missing"


@pytest.mark.parametrize("code,message,ready,expected", [
    ("UNAVAILABLE", "Exceeds maximum queue size", True, ErrorCode.RESOURCE_EXHAUSTED),
    ("INTERNAL", "Exceeds maximum queue size", True, ErrorCode.RESOURCE_EXHAUSTED),  # the code lost on the way
    ("INTERNAL", "[internal] tokenfd_encoder failed: RuntimeError", True, ErrorCode.UPSTREAM_ERROR),
    ("INTERNAL", "Model is not ready", False, ErrorCode.UPSTREAM_UNAVAILABLE),
    # the words do not decide: a ready callee's refusal saying "not ready" is still capacity
    ("UNAVAILABLE", "not ready, unavailable", True, ErrorCode.RESOURCE_EXHAUSTED),
])
def test_bls_errors_are_typed_by_code_and_state(stub, code, message, ready, expected):
    stub.InferenceRequest.answer = staticmethod(lambda request: stub.InferenceResponse(
        error=stub.TritonError(message, getattr(stub.TritonError, code))))
    if ready:
        stub.ready_models.add("callee")
    with pytest.raises(PerceptError) as info:
        stub.backend.bls("callee", {"A": np.zeros(1)}, ["B"])
    assert info.value.code is expected


def test_bls_returns_the_requested_outputs_in_order(stub):
    stub.InferenceRequest.answer = staticmethod(lambda request: stub.InferenceResponse(output_tensors=[
        stub.Tensor(name, np.array([index])) for index, name in enumerate(reversed(request.requested_output_names))]))
    first, second = stub.backend.bls("callee", {"A": np.zeros(1)}, ["B", "C"])
    assert first.tolist() == [1] and second.tolist() == [0]


def _streaming_model(stub, tokens=5, fail_at=None, gate=None):
    class Model(stub.backend.DecoupledModel):
        in_flight_metric, cancelled_metric = IN_FLIGHT_METRIC, CANCELLED_METRIC

        def setup(self, args):
            self.workers = args.integer("workers")

        def stream(self, request, cancelled):
            for index in range(tokens):
                if gate is not None:
                    gate.wait()
                if cancelled():
                    return
                if index == fail_at:
                    raise PerceptError(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "too long")
                yield {"T": np.array([index])}, index == tokens - 1

    model = Model()
    model.initialize(_args({"workers": "2"}, name="gen"))
    return model


def _metric(stub, name):
    return stub.MetricFamily.families[name].metrics[0].value


def test_a_stream_ends_with_one_final_response_and_the_gauge_drops(stub):
    model = _streaming_model(stub)
    requests = [stub.Request(request_id=f"r{i}") for i in range(3)]
    assert model.execute(requests) is None
    model.finalize()  # waits for the workers
    for request in requests:
        flags = [flags for _, flags in request.sender.sent]
        assert flags == [0, 0, 0, 0, 1]
        assert [response.outputs()["T"][0] for response, _ in request.sender.sent] == list(range(5))
    assert _metric(stub, IN_FLIGHT_METRIC) == 0 and _metric(stub, CANCELLED_METRIC) == 0


def test_a_cancelled_stream_stops_closes_and_is_counted(stub):
    model = _streaming_model(stub, tokens=1000)
    request = stub.Request(sender=stub.Sender(cancel_after=2))
    model.execute([request])
    model.finalize()
    responses = request.sender.sent
    assert len(responses) == 3  # two tokens, then the closing error: not 1000
    last, flags = responses[-1]
    assert flags == 1 and last.error().code() == stub.TritonError.CANCELLED
    assert _metric(stub, CANCELLED_METRIC) == 1 and _metric(stub, IN_FLIGHT_METRIC) == 0


def test_a_failing_stream_answers_its_typed_error_as_the_final_response(stub):
    model = _streaming_model(stub, fail_at=2)
    request = stub.Request()
    model.execute([request])
    model.finalize()
    last, flags = request.sender.sent[-1]
    assert flags == 1 and _typed(last).code is ErrorCode.CONTEXT_LENGTH_EXCEEDED
    assert last.error().code() == stub.TritonError.INVALID_ARG
    assert _metric(stub, IN_FLIGHT_METRIC) == 0 and _metric(stub, CANCELLED_METRIC) == 0


def test_the_gauge_counts_streams_not_ended_and_finalize_stops_them(stub):
    gate = threading.Event()
    model = _streaming_model(stub, tokens=1000, gate=gate)
    requests = [stub.Request(request_id=f"r{i}") for i in range(3)]
    model.execute(requests)
    assert _metric(stub, IN_FLIGHT_METRIC) == 3  # two running on the pool, one queued
    model.stopping.set()  # what finalize does first: running streams end at their next response
    gate.set()
    model.finalize()
    assert _metric(stub, IN_FLIGHT_METRIC) == 0
    assert all(len(request.sender.sent) <= 1 for request in requests)


def test_a_stream_is_given_up_when_its_request_ends_though_something_still_holds_it(stub):
    """A stream's resources (a row of a lockstep batch that other requests wait on) go when its request
    ends, here by a failed send, even while a reference keeps the generator object alive."""
    released = []

    class BrokenSender(stub.Sender):
        def send(self, response, flags=0):
            if self.sent:
                raise RuntimeError("the stream is gone")
            super().send(response, flags)

    class Model(stub.backend.DecoupledModel):
        def setup(self, args):
            self.workers, self.kept = 1, []

        def stream(self, request, cancelled):
            def tokens():
                try:
                    for index in range(10):
                        yield {"T": np.array([index])}, index == 9
                finally:
                    released.append(request.request_id())

            generator = tokens()
            self.kept.append(generator)   # a reference that outlives the request
            return generator

    model = Model()
    model.initialize(_args(name="gen"))
    model.execute([stub.Request(sender=BrokenSender(), request_id="held")])
    model.finalize()
    assert released == ["held"]
