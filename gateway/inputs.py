"""Reading a locate request: body cap first, then the content type, then the fields, then
the image header.

The body is read with a hard cap before anything parses it (also for chunked bodies
with no Content-Length), so an oversized upload costs at most the cap in memory. The
image is only header-checked here (format, size, pixel cap: a fast 4xx); its one full
decode happens in the Triton model that needs the pixels.
"""
from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from services.common.errors import ErrorCode, PerceptError
from services.common.images import ImageHeader, check_image_header
from services.common.queries import validate_query

from .dependencies import get_settings
from .schemas import LocateJsonRequest, LocateOptions
from .settings import GatewaySettings


@dataclass(frozen=True)
class LocateInput:
    image: bytes
    options: LocateOptions


@dataclass(frozen=True)
class CheckedLocateInput(LocateInput):
    header: ImageHeader
    read_s: float  # reading and checking the request, up to the image header


async def read_body_capped(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_bytes = int(declared)
        except ValueError:
            raise PerceptError(ErrorCode.MALFORMED_BODY, "Content-Length is not a number") from None
        if declared_bytes > max_bytes:
            raise PerceptError(ErrorCode.PAYLOAD_TOO_LARGE,
                               f"the body is {declared_bytes} bytes; the limit is {max_bytes}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PerceptError(ErrorCode.PAYLOAD_TOO_LARGE, f"the body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's form() re-reads the cached body instead of the spent stream
    return body


def _schema_error(exc: ValidationError) -> PerceptError:
    problems = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
    return PerceptError(ErrorCode.INVALID_REQUEST, "the request does not match the schema",
                        details={"problems": problems})


def _from_json(body: bytes) -> LocateInput:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PerceptError(ErrorCode.MALFORMED_BODY, f"the body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PerceptError(ErrorCode.MALFORMED_BODY, "the JSON body must be an object")
    try:
        # Strict: JSON has real numbers and booleans, so `"max_boxes": false` or "5" is a schema error
        # (a form sends every field as text and is validated laxly).
        parsed = LocateJsonRequest.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise _schema_error(exc) from None
    try:
        image = base64.b64decode(parsed.image, validate=True)
    except (binascii.Error, ValueError):
        raise PerceptError(ErrorCode.INVALID_IMAGE, "`image` is not valid base64") from None
    return LocateInput(image, LocateOptions.model_validate(parsed.model_dump(exclude={"image"})))


async def _from_multipart(request: Request) -> LocateInput:
    try:
        form = await request.form(max_files=1, max_fields=16)
    except HTTPException as exc:  # Starlette turns its MultiPartException into a 400 inside an app
        raise PerceptError(ErrorCode.MALFORMED_BODY, f"malformed multipart body: {exc.detail}") from None
    except (MultiPartException, ValueError, AssertionError, KeyError) as exc:
        raise PerceptError(ErrorCode.MALFORMED_BODY, f"malformed multipart body: {exc}") from None
    try:
        if not form:  # RFC 2046: a multipart body has at least one part
            raise PerceptError(ErrorCode.MALFORMED_BODY, "malformed multipart body: no parts found")
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            raise PerceptError(ErrorCode.INVALID_REQUEST, "multipart field `image` (a file) is required")
        image = await upload.read()
        fields = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
        try:
            options = LocateOptions.model_validate(fields)
        except ValidationError as exc:
            raise _schema_error(exc) from None
        return LocateInput(image, options)
    finally:
        await form.close()


async def read_locate_input(request: Request,
                            settings: GatewaySettings = Depends(get_settings)) -> CheckedLocateInput:
    """A dependency of the locate route: the parsed, checked request, or a typed 4xx."""
    start = time.perf_counter()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "multipart/form-data"):
        raise PerceptError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                           f"content type {content_type or '(none)'!r} is not supported; "
                           "send multipart/form-data or application/json")
    body = await read_body_capped(request, settings.max_body_bytes)
    parsed = _from_json(body) if content_type == "application/json" else await _from_multipart(request)
    validate_query(parsed.options.query, max_chars=settings.max_query_chars)
    max_tiles = parsed.options.max_tiles
    if max_tiles is not None and max_tiles > settings.max_tiles:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"max_tiles is {max_tiles}; the limit is {settings.max_tiles}")
    # Header only (no pixel decoded): a bad image is the client's fault, answered before Triton is asked.
    header = check_image_header(parsed.image, max_pixels=settings.max_image_pixels)
    return CheckedLocateInput(parsed.image, parsed.options, header, time.perf_counter() - start)
