"""How errors cross Triton, in both directions, by codes only.

Triton carries only a status and a message, so a model puts the platform's stable error code
in front of the message ("[code] message") and every caller maps it back to the same typed
error (a client fault stays a 4xx). This module is the one map for:

* a python model answering a request: `triton_code_name` (the python backend's TritonError
  code for a PerceptError) and `triton_error_message`;
* a python model calling another by BLS: `bls_error` (by the callee's TritonError code);
* a client of Triton (the gateway, the generation client): `map_triton_error` (the model's
  "[code]" first, then the gRPC status).

It imports neither Triton nor gRPC: the python-backend stub imports it, and it is tested alone.
"""
from __future__ import annotations

import re
from typing import Callable

from services.common.errors import ErrorCode, PerceptError

ERROR_PREFIX_FORMAT = "[{code}] {message}"
_PREFIXED = re.compile(r"\[([a-z_]+)\]\s*(.*)", re.S)

# PerceptError's gRPC status name -> the python backend's TritonError code (an attribute name:
# the stub defines pb_utils.TritonError's codes only after model.py is imported).
_TRITON_CODES = {
    "INVALID_ARGUMENT": "INVALID_ARG",
    "NOT_FOUND": "NOT_FOUND",
    "UNAVAILABLE": "UNAVAILABLE",
    "RESOURCE_EXHAUSTED": "UNAVAILABLE",
    "UNIMPLEMENTED": "UNSUPPORTED",
}
# gRPC statuses of a call to Triton after which the same request may succeed later.
# NOT_FOUND: the model is not loaded (yet), e.g. while a restarted Triton loads its repository.
_UNREACHABLE = frozenset({"StatusCode.UNAVAILABLE", "StatusCode.NOT_FOUND"})
_DEADLINE = frozenset({"StatusCode.DEADLINE_EXCEEDED"})
# TritonError codes of a BLS call Triton refused for capacity (see `bls_error`).
_REFUSED_FOR_CAPACITY = frozenset({"UNAVAILABLE", "INTERNAL", "UNKNOWN"})


class ModelError(PerceptError):
    """A model's own typed refusal or failure of this request (not a transport fault)."""


def triton_error_message(error: PerceptError) -> str:
    return ERROR_PREFIX_FORMAT.format(code=error.code.value, message=error.message)


def triton_code_name(error: PerceptError) -> str:
    """The python backend's TritonError code (its attribute name) for a model's answer."""
    return _TRITON_CODES.get(error.grpc_status_name, "INTERNAL")


def error_from_triton_message(message: str) -> PerceptError | None:
    """The typed error a model put into a Triton error message; None for any other message."""
    match = _PREFIXED.search(message)
    if match is None:
        return None
    try:
        return PerceptError(ErrorCode(match.group(1)), match.group(2).strip())
    except ValueError:  # a bracketed word that is no platform code
        return None


def map_triton_error(message: str, status: str = "", *, upstream: str = "the inference server") -> PerceptError:
    """A failed call to Triton as the typed error its caller raises.

    `status` is the gRPC status as tritonclient spells it ("StatusCode.UNAVAILABLE"); `upstream`
    names what failed in the messages. A model's "[code] message" is a ModelError with that code,
    except that the model's own bug (internal) is an upstream fault for the caller (502, not 500)."""
    typed = error_from_triton_message(message)
    if typed is not None:
        code = ErrorCode.UPSTREAM_ERROR if typed.code is ErrorCode.INTERNAL else typed.code
        return ModelError(code, typed.message)
    if status in _UNREACHABLE:
        return PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, "the inference server is unavailable")
    if status in _DEADLINE:
        return PerceptError(ErrorCode.UPSTREAM_TIMEOUT, f"{upstream} did not answer in time")
    return PerceptError(ErrorCode.UPSTREAM_ERROR, f"{upstream} failed: {message}")


def map_triton_exception(exc: Exception, *, upstream: str = "the inference server") -> PerceptError:
    """`map_triton_error` for what tritonclient raises: its InferenceServerException (status() and
    message()) or a bare gRPC AioRpcError (code() and details())."""
    if callable(getattr(exc, "status", None)) and callable(getattr(exc, "message", None)):
        return map_triton_error(exc.message() or str(exc), str(exc.status() or ""), upstream=upstream)
    if callable(getattr(exc, "code", None)) and callable(getattr(exc, "details", None)):
        return map_triton_error(exc.details() or "", str(exc.code()), upstream=upstream)
    return PerceptError(ErrorCode.UPSTREAM_ERROR, f"{upstream} failed: {exc}")


def bls_error(callee: str, code: str, message: str, *, callee_ready: Callable[[], bool]) -> PerceptError:
    """A BLS call's error response as the typed error of the calling request, by codes and the
    callee's state, never by the words of the message.

    `code` is the response's TritonError code (its attribute name: "UNAVAILABLE", "INTERNAL",
    ...); `callee_ready` is pb_utils.is_model_ready, asked only on this path.
    * a callee that is not ready (loading, unloading, absent): upstream_unavailable;
    * a "[code] message": the callee ran and failed (every python model of the platform answers
      its failures so): upstream_error;
    * no "[code]" from a ready callee: Triton refused the call before the callee ran it. That is
      its queue being full (UNAVAILABLE; the python backend reports a call refused at submission
      as INTERNAL or UNKNOWN, without Triton's code): resource_exhausted, worth a retry later.
      A refusal with another code (INVALID_ARG, UNSUPPORTED, ...) is a bug of the call:
      upstream_error."""
    if not callee_ready():
        return PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, f"{callee} is not ready: {message}")
    if error_from_triton_message(message) is None and code in _REFUSED_FOR_CAPACITY:
        return PerceptError(ErrorCode.RESOURCE_EXHAUSTED, f"the {callee} queue is full: {message}")
    return PerceptError(ErrorCode.UPSTREAM_ERROR, f"{callee} failed: {message}")
