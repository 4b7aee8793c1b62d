"""The one gRPC error helper: its metadata keys are the sandbox's, and it round-trips codes and hints."""
import asyncio

import grpc
import pytest

from services.common import grpc_errors
from services.common.errors import ErrorCode, PerceptError


def test_metadata_key_names_equal_the_sandbox_runners():
    from percept_sandbox.api import ERROR_CODE_KEY, RETRY_AFTER_KEY

    assert grpc_errors.ERROR_CODE_KEY == ERROR_CODE_KEY
    assert grpc_errors.RETRY_AFTER_KEY == RETRY_AFTER_KEY


class _Aborted(Exception):
    pass


class _Context:
    """The two ServicerContext calls the helper makes, recorded."""

    def __init__(self) -> None:
        self.metadata = ()
        self.status = None

    def set_trailing_metadata(self, metadata):
        self.metadata = metadata

    def abort(self, status, message):
        self.status, self.message = status, message
        raise _Aborted


class _RpcError(grpc.RpcError):
    def __init__(self, status, metadata=(), details="why"):
        self._status, self._metadata, self._details = status, metadata, details

    def code(self):
        return self._status

    def trailing_metadata(self):
        return self._metadata

    def details(self):
        return self._details


@pytest.mark.parametrize("code, status, hint", [
    (ErrorCode.INVALID_IMAGE, grpc.StatusCode.INVALID_ARGUMENT, None),
    (ErrorCode.RESOURCE_EXHAUSTED, grpc.StatusCode.RESOURCE_EXHAUSTED, "250"),
    (ErrorCode.UPSTREAM_UNAVAILABLE, grpc.StatusCode.UNAVAILABLE, "1000"),
    (ErrorCode.NOT_FOUND, grpc.StatusCode.NOT_FOUND, None),
    (ErrorCode.DEADLINE_EXCEEDED, grpc.StatusCode.DEADLINE_EXCEEDED, None),
])
def test_abort_sets_status_code_and_hint(code, status, hint):
    context = _Context()
    retry = 0.25 if code is ErrorCode.RESOURCE_EXHAUSTED else None
    with pytest.raises(_Aborted):
        grpc_errors.abort(context, PerceptError(code, "message", retry_after_s=retry))
    assert context.status is status and context.message == "message"
    metadata = dict(context.metadata)
    assert metadata["percept-error-code"] == code.value
    assert metadata.get("retry-after-ms") == hint


def test_abort_async_does_the_same_for_grpc_aio():
    class AsyncContext(_Context):
        async def abort(self, status, message):
            super().abort(status, message)

    context = AsyncContext()
    with pytest.raises(_Aborted):
        asyncio.run(grpc_errors.abort_async(context, PerceptError(ErrorCode.PAYLOAD_TOO_LARGE, "big")))
    assert context.status is grpc.StatusCode.INVALID_ARGUMENT
    assert dict(context.metadata) == {"percept-error-code": "payload_too_large"}


def test_an_rpc_error_reads_back_into_the_same_percept_error():
    error = grpc_errors.from_rpc_error(_RpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, (
        ("percept-error-code", "resource_exhausted"), ("retry-after-ms", "1500"))), upstream="sandbox")
    assert error.code is ErrorCode.RESOURCE_EXHAUSTED and error.retry_after_s == 1.5
    assert error.message == "sandbox: why"


def test_a_bare_status_maps_to_the_closest_code():
    assert grpc_errors.from_rpc_error(_RpcError(grpc.StatusCode.UNAVAILABLE)).code is ErrorCode.UPSTREAM_UNAVAILABLE
    assert grpc_errors.from_rpc_error(_RpcError(grpc.StatusCode.UNKNOWN)).code is ErrorCode.UPSTREAM_ERROR
    unknown_code = _RpcError(grpc.StatusCode.INVALID_ARGUMENT, (("percept-error-code", "no_such_code"),))
    assert grpc_errors.from_rpc_error(unknown_code).code is ErrorCode.INVALID_REQUEST
