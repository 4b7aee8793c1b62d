"""Reading the STEM requests: the shared body reader (gateway/inputs.py: body cap, multipart
or JSON with base64), then the STEM limits -- the code-size cap, the candidate cap and the
image's header (format, size, pixel cap; no pixel decoded here, the service decodes once).
"""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request

from services.common.errors import ErrorCode, PerceptError
from services.common.images import check_image_header

from .dependencies import get_settings
from .inputs import BodyShape, read_body
from .settings import GatewaySettings
from .stem_schemas import (
    ImageToCodeJsonRequest,
    ImageToCodeOptions,
    RenderFields,
    RenderJsonRequest,
    ScoreJsonRequest,
    ScoreOptions,
)

IMAGE_TO_CODE_BODY = BodyShape(json_model=ImageToCodeJsonRequest, fields_model=ImageToCodeOptions,
                               binary=("image",), required_binary=("image",))
RENDER_BODY = BodyShape(json_model=RenderJsonRequest, fields_model=RenderFields)
SCORE_BODY = BodyShape(json_model=ScoreJsonRequest, fields_model=ScoreOptions, binary=("reference_image",),
                       required_binary=("reference_image",))


@dataclass(frozen=True)
class ImageToCodeInput:
    image: bytes
    options: ImageToCodeOptions


@dataclass(frozen=True)
class ScoreInput:
    reference_image: bytes
    options: ScoreOptions


def check_code_size(field: str, code: str | None, max_bytes: int) -> None:
    if code is None:
        return
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise PerceptError(ErrorCode.PAYLOAD_TOO_LARGE, f"`{field}` is {size} bytes; the limit is {max_bytes}",
                           details={"field": field, "bytes": size, "max_bytes": max_bytes})


def _check_text(field: str, code: str | None) -> None:
    """The service takes UTF-8; a lone surrogate (valid JSON escape, invalid Unicode) is refused here."""
    if code is not None:
        try:
            code.encode("utf-8")
        except UnicodeEncodeError:
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"`{field}` is not valid Unicode text") from None


def _check_program(field: str, code: str | None, settings: GatewaySettings) -> None:
    check_code_size(field, code, settings.max_code_bytes)
    _check_text(field, code)


async def read_image_to_code_input(request: Request,
                                   settings: GatewaySettings = Depends(get_settings)) -> ImageToCodeInput:
    parsed = await read_body(request, IMAGE_TO_CODE_BODY, settings.max_body_bytes)
    options: ImageToCodeOptions = parsed.fields  # type: ignore[assignment]
    if options.candidates > settings.max_candidates:
        raise PerceptError(ErrorCode.INVALID_REQUEST,
                           f"candidates is {options.candidates}; the limit is {settings.max_candidates}",
                           details={"candidates": options.candidates, "max_candidates": settings.max_candidates})
    if options.refine_renders is not None and options.refine_renders > settings.max_refine_renders:
        raise PerceptError(ErrorCode.INVALID_REQUEST,
                           f"refine_renders is {options.refine_renders}; the limit is {settings.max_refine_renders}",
                           details={"refine_renders": options.refine_renders,
                                    "max_refine_renders": settings.max_refine_renders})
    for key, value in options.backend_options.model_dump(exclude_none=True).items():
        if isinstance(value, str):
            _check_text(f"backend_options.{key}", value)
    image = parsed.binary["image"]
    check_image_header(image, max_pixels=settings.max_image_pixels)
    return ImageToCodeInput(image, options)


async def read_render_input(request: Request, settings: GatewaySettings = Depends(get_settings)) -> RenderFields:
    parsed = await read_body(request, RENDER_BODY, settings.max_body_bytes)
    options: RenderFields = parsed.fields  # type: ignore[assignment]
    _check_program("code", options.code, settings)
    return options


async def read_score_input(request: Request, settings: GatewaySettings = Depends(get_settings)) -> ScoreInput:
    parsed = await read_body(request, SCORE_BODY, settings.max_body_bytes)
    options: ScoreOptions = parsed.fields  # type: ignore[assignment]
    _check_program("candidate_code", options.candidate_code, settings)
    _check_program("reference_code", options.reference_code, settings)
    image = parsed.binary["reference_image"]
    check_image_header(image, max_pixels=settings.max_image_pixels)
    return ScoreInput(image, options)
