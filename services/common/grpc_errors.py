"""The platform's error convention over gRPC, both ways, in one place.

A `PerceptError` leaves a gRPC server as its table status (services/common/errors.py)
with two trailing metadata keys -- the same ones the sandbox-runner sets:

    percept-error-code   the stable ErrorCode value ("invalid_image", "resource_exhausted", ...)
    retry-after-ms       the retry hint, for the codes after which a retry may succeed

and a `grpc.RpcError` from any of the platform's servers is read back into a
`PerceptError` with the same code and hint. The sandbox-runner ships without the
platform's code, so it spells the keys itself; a test keeps them equal.
"""
from __future__ import annotations

import math

import grpc

from .errors import ErrorCode, PerceptError

ERROR_CODE_KEY = "percept-error-code"
RETRY_AFTER_KEY = "retry-after-ms"

# When the server named no code: what the bare gRPC status most likely means.
_CODE_FOR_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_REQUEST,
    grpc.StatusCode.OUT_OF_RANGE: ErrorCode.INVALID_REQUEST,
    grpc.StatusCode.FAILED_PRECONDITION: ErrorCode.INVALID_REQUEST,
    grpc.StatusCode.NOT_FOUND: ErrorCode.NOT_FOUND,
    grpc.StatusCode.UNAUTHENTICATED: ErrorCode.UNAUTHORIZED,
    grpc.StatusCode.PERMISSION_DENIED: ErrorCode.UNAUTHORIZED,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ErrorCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE: ErrorCode.UPSTREAM_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ErrorCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED: ErrorCode.UPSTREAM_UNAVAILABLE,
    grpc.StatusCode.UNIMPLEMENTED: ErrorCode.UPSTREAM_ERROR,
}


def grpc_status(error: PerceptError) -> grpc.StatusCode:
    return grpc.StatusCode[error.grpc_status_name]


def trailing_metadata(error: PerceptError) -> tuple[tuple[str, str], ...]:
    metadata = [(ERROR_CODE_KEY, error.code.value)]
    if error.retry_after_s is not None:
        metadata.append((RETRY_AFTER_KEY, str(max(0, math.ceil(error.retry_after_s * 1000)))))
    return tuple(metadata)


def _apply(context, error: PerceptError) -> grpc.StatusCode:
    context.set_trailing_metadata(trailing_metadata(error))
    return grpc_status(error)


def abort(context: grpc.ServicerContext, error: PerceptError):
    """End a sync servicer's call with the error's status and metadata (raises)."""
    context.abort(_apply(context, error), error.message)


async def abort_async(context: grpc.aio.ServicerContext, error: PerceptError):
    """End a grpc.aio servicer's call with the error's status and metadata (raises)."""
    await context.abort(_apply(context, error), error.message)


def _metadata_value(error: grpc.RpcError, key: str) -> str | None:
    try:
        metadata = error.trailing_metadata() or ()
    except Exception:  # noqa: BLE001 - an error raised before the call started has none
        metadata = ()
    for item_key, value in metadata:
        if item_key == key:
            return value.decode() if isinstance(value, bytes) else value
    return None


def retry_after_s(error: grpc.RpcError) -> float | None:
    raw = _metadata_value(error, RETRY_AFTER_KEY)
    try:
        return int(raw) / 1000 if raw is not None else None
    except ValueError:
        return None


def from_rpc_error(error: grpc.RpcError, *, upstream: str = "") -> PerceptError:
    """The PerceptError a platform server sent (its code and hint), or the closest fit
    for a bare status (a connection failure is UNAVAILABLE: upstream_unavailable)."""
    status = error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN
    raw_code = _metadata_value(error, ERROR_CODE_KEY)
    try:
        code = ErrorCode(raw_code) if raw_code else _CODE_FOR_STATUS.get(status, ErrorCode.UPSTREAM_ERROR)
    except ValueError:
        code = _CODE_FOR_STATUS.get(status, ErrorCode.UPSTREAM_ERROR)
    details = error.details() if callable(getattr(error, "details", None)) else None
    prefix = f"{upstream}: " if upstream else ""
    return PerceptError(code, f"{prefix}{details or status.name.lower()}", retry_after_s=retry_after_s(error),
                        details={"grpc_status": status.name})
