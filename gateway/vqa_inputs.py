"""Reading a VQA request: the shared body reader (gateway/inputs.py: body cap, multipart or JSON with
base64), then the document -- images header-checked (format, pixel cap), or a PDF rendered page by
page (gateway/pdf.py) -- and the gateway's caps on images and max_tokens (the model's own caps are
checked by the route, once it knows the model: gateway/generation_limits.py).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fastapi import Depends, Request

from services.common.errors import ErrorCode, PerceptError
from services.common.images import check_image_header

from .dependencies import get_settings
from .generation_limits import check_image_count, check_max_tokens
from .inputs import BodyShape, read_body
from .pdf import render_pdf
from .settings import GatewaySettings
from .vqa_schemas import PageProvenance, PageSource, VqaJsonRequest, VqaOptions

# Form files beyond one per field: enough that too many images is answered as too_many_images.
_MAX_FORM_FILES = 64
VQA_BODY = BodyShape(json_model=VqaJsonRequest, fields_model=VqaOptions, binary=("images", "pdf"),
                     repeated=("images",), max_files=_MAX_FORM_FILES)


@dataclass(frozen=True)
class VqaInput:
    images: list[bytes]
    pages: list[PageProvenance]
    options: VqaOptions
    read_s: float


async def read_vqa_input(request: Request, settings: GatewaySettings = Depends(get_settings)) -> VqaInput:
    start = time.perf_counter()
    parsed = await read_body(request, VQA_BODY, settings.max_body_bytes)
    options: VqaOptions = parsed.fields  # type: ignore[assignment]
    images, pdf = parsed.repeated.get("images", []), parsed.binary.get("pdf")
    if (not images) == (pdf is None):
        raise PerceptError(ErrorCode.INVALID_REQUEST, "send one or more `images`, or one `pdf`",
                           details={"param": "images"})
    check_max_tokens(options.max_tokens, settings.max_completion_tokens, "max_tokens")
    if images:
        if options.pages is not None:
            raise PerceptError(ErrorCode.INVALID_REQUEST, "`pages` selects PDF pages; this request has images",
                               details={"param": "pages"})
        check_image_count(len(images), settings.max_images, "images")
        pages = []
        for index, image in enumerate(images):
            try:
                header = check_image_header(image, max_pixels=settings.max_image_pixels)
            except PerceptError as error:
                raise PerceptError(error.code, f"images.{index}: {error.message}",
                                   details={"param": f"images.{index}"}) from None
            pages.append(PageProvenance(index=index, source=PageSource.image, upload=index, width=header.width,
                                        height=header.height))
        return VqaInput(images, pages, options, time.perf_counter() - start)
    rendered = await asyncio.to_thread(
        render_pdf, pdf, options.pages, max_bytes=settings.max_pdf_bytes,
        max_pages=min(settings.max_pdf_pages, settings.max_images), dpi=settings.pdf_dpi,
        max_pixels=settings.max_image_pixels)
    pages = [PageProvenance(index=i, source=PageSource.pdf, page=r.page, width=r.width, height=r.height)
             for i, r in enumerate(rendered)]
    return VqaInput([r.png for r in rendered], pages, options, time.perf_counter() - start)
