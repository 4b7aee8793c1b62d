"""The one Triton error map (services/triton/errors.py), both directions, by codes only."""
import pytest

from services.common.errors import ErrorCode, PerceptError
from services.triton.errors import ModelError, bls_error, map_triton_error, triton_code_name, triton_error_message


@pytest.mark.parametrize("code,triton", [
    (ErrorCode.INVALID_IMAGE, "INVALID_ARG"), (ErrorCode.CONTEXT_LENGTH_EXCEEDED, "INVALID_ARG"),
    (ErrorCode.UNKNOWN_MODEL, "NOT_FOUND"), (ErrorCode.RESOURCE_EXHAUSTED, "UNAVAILABLE"),
    (ErrorCode.UPSTREAM_UNAVAILABLE, "UNAVAILABLE"), (ErrorCode.METHOD_NOT_ALLOWED, "UNSUPPORTED"),
    (ErrorCode.UPSTREAM_ERROR, "INTERNAL"), (ErrorCode.INTERNAL, "INTERNAL"),
])
def test_a_models_answer_carries_the_matching_triton_code(code, triton):
    assert triton_code_name(PerceptError(code, "x")) == triton


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_crosses_triton_and_comes_back(code):
    mapped = map_triton_error(triton_error_message(PerceptError(code, "why")), "StatusCode.INTERNAL")
    assert isinstance(mapped, ModelError) and mapped.message == "why"
    # the model's own bug is an upstream fault for its caller (502), every other code is kept
    assert mapped.code is (ErrorCode.UPSTREAM_ERROR if code is ErrorCode.INTERNAL else code)


@pytest.mark.parametrize("status,code", [
    ("StatusCode.UNAVAILABLE", ErrorCode.UPSTREAM_UNAVAILABLE),
    ("StatusCode.NOT_FOUND", ErrorCode.UPSTREAM_UNAVAILABLE),
    ("StatusCode.DEADLINE_EXCEEDED", ErrorCode.UPSTREAM_TIMEOUT),
    ("StatusCode.INTERNAL", ErrorCode.UPSTREAM_ERROR),
    ("", ErrorCode.UPSTREAM_ERROR),
])
def test_untyped_failures_are_mapped_by_grpc_status(status, code):
    mapped = map_triton_error("not ready, queue full, unavailable", status, upstream="the generation model")
    assert mapped.code is code and not isinstance(mapped, ModelError)


@pytest.mark.parametrize("code,message,ready,expected", [
    ("UNAVAILABLE", "m", True, ErrorCode.RESOURCE_EXHAUSTED),      # Triton refused it: the queue is full
    ("INTERNAL", "m", True, ErrorCode.RESOURCE_EXHAUSTED),         # the same, as the backend reports it
    ("INTERNAL", "[internal] m", True, ErrorCode.UPSTREAM_ERROR),  # the callee ran and failed
    ("INVALID_ARG", "m", True, ErrorCode.UPSTREAM_ERROR),          # a bad call: our bug, not capacity
    ("UNAVAILABLE", "m", False, ErrorCode.UPSTREAM_UNAVAILABLE),   # loading or unloading
    ("INTERNAL", "[internal] m", False, ErrorCode.UPSTREAM_UNAVAILABLE),
])
def test_a_bls_error_is_typed_by_the_callee_state_and_codes(code, message, ready, expected):
    assert bls_error("enc", code, message, callee_ready=lambda: ready).code is expected
