"""Typed errors with stable codes, shared by every Python service.

One table maps each code to its HTTP status and gRPC status, so the gateway, the
code-perception service and the Triton python models report a fault the same way.
Client faults are 4xx / INVALID_ARGUMENT, upstream faults 503 / UNAVAILABLE with a
retry hint, a full pool 429 / RESOURCE_EXHAUSTED.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    # client faults
    INVALID_REQUEST = "invalid_request"
    MALFORMED_BODY = "malformed_body"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_IMAGE = "invalid_image"
    TRUNCATED_IMAGE = "truncated_image"
    EMPTY_IMAGE = "empty_image"
    IMAGE_TOO_LARGE = "image_too_large"
    INVALID_QUERY = "invalid_query"
    QUERY_TOO_LONG = "query_too_long"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # generation and document intake (chat completions, document VQA, generation models)
    UNKNOWN_MODEL = "unknown_model"
    UNSUPPORTED_CONTENT = "unsupported_content"
    TOO_MANY_IMAGES = "too_many_images"
    CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
    INVALID_PDF = "invalid_pdf"
    ENCRYPTED_PDF = "encrypted_pdf"
    TOO_MANY_PAGES = "too_many_pages"
    PAGES_OUT_OF_RANGE = "pages_out_of_range"
    URL_NOT_ALLOWED = "url_not_allowed"
    # capacity and upstream faults
    RESOURCE_EXHAUSTED = "resource_exhausted"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    UPSTREAM_TIMEOUT = "upstream_timeout"
    UPSTREAM_ERROR = "upstream_error"
    # the caller's deadline passed before the work was done (the work is cancelled)
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL = "internal"


@dataclass(frozen=True)
class _Status:
    http: int
    grpc: str  # grpc.StatusCode name; kept as a string so this module needs no grpc import


_STATUS: dict[ErrorCode, _Status] = {
    ErrorCode.INVALID_REQUEST: _Status(400, "INVALID_ARGUMENT"),
    ErrorCode.MALFORMED_BODY: _Status(400, "INVALID_ARGUMENT"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: _Status(415, "INVALID_ARGUMENT"),
    ErrorCode.PAYLOAD_TOO_LARGE: _Status(413, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_IMAGE: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.TRUNCATED_IMAGE: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.EMPTY_IMAGE: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.IMAGE_TOO_LARGE: _Status(413, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_QUERY: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.QUERY_TOO_LONG: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.UNAUTHORIZED: _Status(401, "UNAUTHENTICATED"),
    ErrorCode.NOT_FOUND: _Status(404, "NOT_FOUND"),
    ErrorCode.METHOD_NOT_ALLOWED: _Status(405, "UNIMPLEMENTED"),
    ErrorCode.UNKNOWN_MODEL: _Status(404, "NOT_FOUND"),
    ErrorCode.UNSUPPORTED_CONTENT: _Status(400, "INVALID_ARGUMENT"),
    # A request the schema takes whose content is over a limit that only the content or the served model
    # shows (the model's max_images and context, a PDF's pages) is 422, as an undecodable image is: 400 is
    # for what the schema refuses, so the OpenAPI document stays exact (the contract fuzzer checks it).
    ErrorCode.TOO_MANY_IMAGES: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.CONTEXT_LENGTH_EXCEEDED: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.INVALID_PDF: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.ENCRYPTED_PDF: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.TOO_MANY_PAGES: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.PAGES_OUT_OF_RANGE: _Status(422, "INVALID_ARGUMENT"),
    ErrorCode.URL_NOT_ALLOWED: _Status(400, "INVALID_ARGUMENT"),
    ErrorCode.RESOURCE_EXHAUSTED: _Status(429, "RESOURCE_EXHAUSTED"),
    ErrorCode.UPSTREAM_UNAVAILABLE: _Status(503, "UNAVAILABLE"),
    ErrorCode.UPSTREAM_TIMEOUT: _Status(503, "UNAVAILABLE"),
    ErrorCode.UPSTREAM_ERROR: _Status(502, "INTERNAL"),
    ErrorCode.DEADLINE_EXCEEDED: _Status(504, "DEADLINE_EXCEEDED"),
    ErrorCode.INTERNAL: _Status(500, "INTERNAL"),
}

# Codes after which the same request may succeed later; they carry a retry hint.
RETRYABLE = frozenset({
    ErrorCode.RESOURCE_EXHAUSTED,
    ErrorCode.UPSTREAM_UNAVAILABLE,
    ErrorCode.UPSTREAM_TIMEOUT,
})


class PerceptError(Exception):
    """An error that crosses a service boundary with a stable code."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        retry_after_s: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        if retry_after_s is None and self.code in RETRYABLE:
            retry_after_s = 1.0
        self.retry_after_s = retry_after_s
        self.details = details or {}

    @property
    def http_status(self) -> int:
        return _STATUS[self.code].http

    @property
    def grpc_status_name(self) -> str:
        return _STATUS[self.code].grpc

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.retry_after_s is not None:
            body["retry_after_s"] = self.retry_after_s
        if self.details:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"PerceptError({self.code.value!r}, {self.message!r})"
