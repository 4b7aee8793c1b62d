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
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import ErrorCode, PerceptError

from . import settings

log = logging.getLogger("percept.gateway")

_HTTP_CODES = {
    400: ErrorCode.INVALID_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def error_response(error: PerceptError, request_id: str | None = None) -> JSONResponse:
    headers = {}
    if error.retry_after_s is not None:
        retry_after = max(error.retry_after_s, float(settings.RETRY_AFTER_S.get()))
        headers["Retry-After"] = str(math.ceil(retry_after))
    if request_id:
        headers["X-Request-ID"] = request_id
    body = error.to_dict()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse({"error": body}, status_code=error.http_status, headers=headers)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def _percept_error(request: Request, exc: PerceptError) -> JSONResponse:
    return error_response(exc, _request_id(request))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()]
    error = PerceptError(ErrorCode.INVALID_REQUEST, "the request does not match the schema",
                         details={"problems": problems})
    return error_response(error, _request_id(request))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
    return error_response(PerceptError(code, str(exc.detail)), _request_id(request))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"request_id": _request_id(request)})
    return error_response(PerceptError(ErrorCode.INTERNAL, "internal error; see the gateway log"),
                          _request_id(request))


def install(app: FastAPI) -> None:
    app.add_exception_handler(PerceptError, _percept_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
