"""Every error leaves the gateway as `{"error": {"code", "message", ...}}` with a stable code.

Client faults are 4xx, upstream faults 503 with Retry-After, a full pool 429 with
Retry-After; nothing else escapes, not even FastAPI's own 404/405/422 or an
unexpected exception (logged with the request id, answered 500 `internal`).
"""
from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import ErrorCode, PerceptError

from .disconnect import ClientDisconnected

log = logging.getLogger("percept.gateway")

_HTTP_CODES = {
    400: ErrorCode.INVALID_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


# Nobody reads it: the status is for the gateway's metrics and access log (nginx's convention).
CLIENT_CLOSED_REQUEST = 499

# Headers RFC 9110 requires with some statuses: 401 names the auth scheme; 405 keeps the
# `Allow` list Starlette's router puts on its exception.
_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="percept"'}


def error_response(error: PerceptError, request_id: str | None = None, *, retry_after_floor_s: float = 0,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if error.retry_after_s is not None:
        retry_after = max(error.retry_after_s, retry_after_floor_s)
        headers["Retry-After"] = str(math.ceil(retry_after))
    if error.code is ErrorCode.UNAUTHORIZED:
        headers.update(_UNAUTHORIZED_HEADERS)
    if request_id:
        headers["X-Request-ID"] = request_id
    body = error.to_dict()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse({"error": body}, status_code=error.http_status, headers=headers)


def client_closed_response() -> Response:
    """What a handler whose client has gone answers: no body, no traceback in the log."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _validation_problems(exc: RequestValidationError) -> PerceptError:
    problems = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()]
    return PerceptError(ErrorCode.INVALID_REQUEST, "the request does not match the schema",
                        details={"problems": problems})


def install(app: FastAPI, retry_after_s: float) -> None:
    """Answer every error in the platform's shape; `retry_after_s` is the Retry-After floor."""

    def respond(request: Request, error: PerceptError, headers: dict[str, str] | None = None) -> JSONResponse:
        return error_response(error, _request_id(request), retry_after_floor_s=retry_after_s, headers=headers)

    async def percept_error(request: Request, exc: PerceptError) -> JSONResponse:
        return respond(request, exc)

    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(request, _validation_problems(exc))

    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
        return respond(request, PerceptError(code, str(exc.detail)), headers=exc.headers)

    async def client_left(request: Request, exc: ClientDisconnected) -> Response:
        return client_closed_response()

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"request_id": _request_id(request)})
        return respond(request, PerceptError(ErrorCode.INTERNAL, "internal error; see the gateway log"))

    app.add_exception_handler(PerceptError, percept_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnected, client_left)
    app.add_exception_handler(Exception, unexpected)
