"""Reading a request body (locate, STEM): body cap first, then the content type, then the fields, then
the image header.

The body is read with a hard cap before anything parses it (also for chunked bodies
with no Content-Length), so an oversized upload costs at most the cap in memory. The
image is only header-checked here (format, size, pixel cap: a fast 4xx); its one full
decode happens in the Triton model that needs the pixels.
"""
from __future__ import annotations

import json
import time
import typing
from dataclasses import dataclass, field

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from services.common.errors import ErrorCode, PerceptError
from services.common.images import ImageHeader, check_image_header
from services.common.queries import validate_query

from .dependencies import get_settings
from .schemas import LocateFormFields, LocateJsonRequest, LocateOptions, decode_base64
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


@dataclass(frozen=True)
class BodyShape:
    """How a route's body looks, in both encodings.

    `json_model` validates a whole JSON body strictly, with each binary field as a base64
    string; `fields_model` validates the other fields (laxly, as a form sends text).
    `binary` names the binary fields: files in a multipart form, base64 in JSON; `repeated` the
    binary fields that may come several times (a file field repeated in a form, a list of base64
    strings in JSON)."""

    json_model: type[BaseModel]
    fields_model: type[BaseModel]
    binary: tuple[str, ...] = ()
    required_binary: tuple[str, ...] = ()
    repeated: tuple[str, ...] = ()
    max_files: int = 4  # files a form may carry beyond one per binary field


@dataclass(frozen=True)
class ParsedBody:
    binary: dict[str, bytes]  # the binary fields that were sent
    fields: BaseModel
    repeated: dict[str, list[bytes]] = field(default_factory=dict)  # the repeated ones, in order


def _from_json(body: bytes, shape: BodyShape) -> ParsedBody:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PerceptError(ErrorCode.MALFORMED_BODY, f"the body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PerceptError(ErrorCode.MALFORMED_BODY, "the JSON body must be an object")
    try:
        # Strict: JSON has real numbers and booleans, so `"max_boxes": false` or "5" is a schema error
        # (a form sends every field as text and is validated laxly).
        parsed = shape.json_model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise _schema_error(exc) from None
    binary, repeated = {}, {}
    for name in shape.binary:
        encoded = getattr(parsed, name)
        if encoded is None:
            continue
        if name in shape.repeated:
            repeated[name] = [_base64(f"{name}.{index}", item) for index, item in enumerate(encoded)]
        else:
            binary[name] = _base64(name, encoded)
    fields = shape.fields_model.model_validate(parsed.model_dump(exclude=set(shape.binary), exclude_unset=True))
    return ParsedBody(binary, fields, repeated)


def _base64(name: str, encoded: str) -> bytes:
    decoded = decode_base64(encoded)
    if decoded is None:
        raise PerceptError(ErrorCode.INVALID_IMAGE, f"`{name}` is not valid base64")
    return decoded


async def _form_text(name: str, value: str | UploadFile) -> str:
    """A text field of a form; a program may also come as a file upload (`-F code=@plot.py`)."""
    if isinstance(value, str):
        return value
    try:
        return (await value.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"multipart field `{name}` is not UTF-8 text") from None


def _form_value(model: type[BaseModel], name: str, text: str):
    """Form fields are text; an object-valued field (e.g. backend_options) is sent as JSON text."""
    field = model.model_fields.get(name)
    nested_model = isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel) if field else False
    if field is None or not nested_model and dict not in (typing.get_origin(field.annotation), field.annotation):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"multipart field `{name}` must be a JSON object") from None
    if not isinstance(value, dict):
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"multipart field `{name}` must be a JSON object")
    return value


async def _from_multipart(request: Request, shape: BodyShape) -> ParsedBody:
    try:
        form = await request.form(max_files=len(shape.binary) + shape.max_files, max_fields=32)
    except HTTPException as exc:  # Starlette turns its MultiPartException into a 400 inside an app
        raise PerceptError(ErrorCode.MALFORMED_BODY, f"malformed multipart body: {exc.detail}") from None
    except (MultiPartException, ValueError, AssertionError, KeyError) as exc:
        raise PerceptError(ErrorCode.MALFORMED_BODY, f"malformed multipart body: {exc}") from None
    try:
        if not form:  # RFC 2046: a multipart body has at least one part
            raise PerceptError(ErrorCode.MALFORMED_BODY, "malformed multipart body: no parts found")
        binary, repeated = {}, {}
        for name in shape.repeated:
            uploads = form.getlist(name)
            if any(not isinstance(upload, UploadFile) for upload in uploads):
                raise PerceptError(ErrorCode.INVALID_REQUEST, f"multipart field `{name}` must be files")
            if uploads:
                repeated[name] = [await upload.read() for upload in uploads]
        for name in shape.binary:
            upload = form.get(name)
            if name in shape.repeated:
                continue
            if isinstance(upload, UploadFile):
                binary[name] = await upload.read()
            elif name in shape.required_binary or upload is not None:
                raise PerceptError(ErrorCode.INVALID_REQUEST, f"multipart field `{name}` (a file) is required")
        fields = {}
        for name, value in form.multi_items():
            if name not in shape.binary:
                fields[name] = _form_value(shape.fields_model, name, await _form_text(name, value))
        try:
            options = shape.fields_model.model_validate(fields)
        except ValidationError as exc:
            raise _schema_error(exc) from None
        return ParsedBody(binary, options, repeated)
    finally:
        await form.close()


def request_content_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "multipart/form-data"):
        raise PerceptError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                           f"content type {content_type or '(none)'!r} is not supported; "
                           "send multipart/form-data or application/json")
    return content_type


async def read_body(request: Request, shape: BodyShape, max_bytes: int) -> ParsedBody:
    """The content type, the body under its cap, then the fields in either encoding, or a typed 4xx."""
    content_type = request_content_type(request)
    body = await read_body_capped(request, max_bytes)
    if content_type == "application/json":
        return _from_json(body, shape)
    return await _from_multipart(request, shape)


_LOCATE_BODY = BodyShape(json_model=LocateJsonRequest, fields_model=LocateFormFields, binary=("image",),
                         required_binary=("image",))


async def read_locate_input(request: Request,
                            settings: GatewaySettings = Depends(get_settings)) -> CheckedLocateInput:
    """A dependency of the locate route: the parsed, checked request, or a typed 4xx."""
    start = time.perf_counter()
    parsed = await read_body(request, _LOCATE_BODY, settings.max_body_bytes)
    image, options = parsed.binary["image"], parsed.fields
    validate_query(options.query, max_chars=settings.max_query_chars)
    max_tiles = options.max_tiles
    if max_tiles is not None and max_tiles > settings.max_tiles:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"max_tiles is {max_tiles}; the limit is {settings.max_tiles}")
    if options.heatmap_tokens and max(options.heatmap_tokens) >= settings.max_query_tokens:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"heatmap_tokens has {max(options.heatmap_tokens)}; a query "
                                                      f"has at most {settings.max_query_tokens} tokens")
    side = options.heatmap_max_side
    if side is not None and side > settings.heatmap_max_side:
        raise PerceptError(ErrorCode.INVALID_REQUEST,
                           f"heatmap_max_side is {side}; the limit is {settings.heatmap_max_side}")
    # Header only (no pixel decoded): a bad image is the client's fault, answered before Triton is asked.
    header = check_image_header(image, max_pixels=settings.max_image_pixels)
    return CheckedLocateInput(image, options, header, time.perf_counter() - start)
