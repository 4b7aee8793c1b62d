"""Errors of the OpenAI-compatible routes, in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

Only those routes answer this way (their router uses `OpenAIRoute`); every other route keeps the
platform's shape (gateway/errors.py). The code is the platform's stable code; the HTTP status is
one the `openai` client maps to the right exception: client faults are 400 (BadRequestError),
except 401 (AuthenticationError), 404 (NotFoundError: an unknown model) and 429 (RateLimitError);
upstream faults keep their 503 (with Retry-After) or 502.
"""
from __future__ import annotations

import logging
import math
from typing import Callable

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import ErrorCode, PerceptError

from .disconnect import ClientDisconnected
from .errors import _HTTP_CODES, _UNAUTHORIZED_HEADERS, client_closed_response

log = logging.getLogger("percept.gateway")

_KEPT_STATUSES = {401, 404, 429}
_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          429: "rate_limit_error"}


class OpenAIErrorBody(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error, authentication_error, not_found_error, "
                                  "rate_limit_error or server_error.")
    param: str | None = Field(None, description="The request field at fault, when one is.")
    code: str = Field(description="The platform's stable error code (docs/api.md).")


class OpenAIErrorResponse(BaseModel):
    error: OpenAIErrorBody


def openai_status(error: PerceptError) -> int:
    status = error.http_status
    if status < 500 and status not in _KEPT_STATUSES:
        return 400
    return status


def openai_error_body(error: PerceptError) -> dict:
    status = openai_status(error)
    param = error.details.get("param")
    return {"message": error.message, "type": _TYPES.get(status, "server_error"),
            "param": str(param) if param is not None else None, "code": error.code.value}


def openai_error_response(error: PerceptError, request_id: str | None, retry_after_floor_s: float = 0) -> JSONResponse:
    headers = {}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(math.ceil(max(error.retry_after_s, retry_after_floor_s)))
    if error.code is ErrorCode.UNAUTHORIZED:
        headers.update(_UNAUTHORIZED_HEADERS)
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse({"error": openai_error_body(error)}, status_code=openai_status(error), headers=headers)


def _from_validation(exc: RequestValidationError) -> PerceptError:
    problems = exc.errors()
    first = problems[0] if problems else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    return PerceptError(ErrorCode.INVALID_REQUEST, f"invalid request: {first.get('msg', 'does not match the schema')}"
                        + (f" ({'.'.join(loc)})" if loc else ""), details={"param": ".".join(loc) or None})


class OpenAIRoute(APIRoute):
    """A route whose errors (auth, validation, typed faults, anything unexpected) leave in OpenAI's shape."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            request_id = getattr(request.state, "request_id", None)
            floor = request.app.state.settings.retry_after_s
            try:
                return await handler(request)
            except PerceptError as error:
                return openai_error_response(error, request_id, floor)
            except RequestValidationError as exc:
                return openai_error_response(_from_validation(exc), request_id, floor)
            except StarletteHTTPException as exc:
                code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
                return openai_error_response(PerceptError(code, str(exc.detail)), request_id, floor)
            except ClientDisconnected:
                return client_closed_response()
            except Exception:  # noqa: BLE001 - never a bare 500 with a traceback
                log.exception("unhandled error", extra={"request_id": request_id})
                return openai_error_response(PerceptError(ErrorCode.INTERNAL, "internal error; see the gateway log"),
                                             request_id, floor)

        return route
