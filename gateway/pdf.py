"""PDF intake of document VQA: the PDF's pages rendered to PNG with pypdfium2 (PDFium), with a
byte cap, a page selection and a page cap; a corrupt PDF is `invalid_pdf`, one that needs a
password `encrypted_pdf` (both 422).

PDFium is not thread-safe, so renders run one at a time (a lock), in a worker thread so the
event loop keeps serving. A page is rendered at the configured resolution, or lower when that
would exceed the pixel cap (a huge MediaBox must not become a huge bitmap).
"""
from __future__ import annotations

import io
import math
import re
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw

from services.common.errors import ErrorCode, PerceptError

from .vqa_schemas import PAGE

_LOCK = threading.Lock()
_RANGE = re.compile(rf"[ \t]*({PAGE})[ \t]*(?:-[ \t]*({PAGE})[ \t]*)?")  # one of PAGES_PATTERN's ranges
_POINTS_PER_INCH = 72


@dataclass(frozen=True)
class RenderedPage:
    page: int          # 1-based page number in the PDF
    width: int
    height: int
    png: bytes


def select_pages(selection: str | None, page_count: int, max_pages: int) -> list[int]:
    """1-based page numbers from `"1-3,5"` (all pages when None or blank), in the order given, each once;
    or a typed 4xx: 400 a malformed selection (the schema's PAGES_PATTERN refuses it first), 422 a page
    outside the PDF (or a range backwards) or more than `max_pages`."""
    def too_many() -> PerceptError:
        return PerceptError(ErrorCode.TOO_MANY_PAGES, f"more than {max_pages} pages selected (the PDF has "
                            f"{page_count}); the limit is {max_pages}: select some with `pages`",
                            details={"param": "pages", "max_pages": max_pages})

    if selection is None or not selection.strip():
        if page_count > max_pages:
            raise too_many()
        return list(range(1, page_count + 1))
    pages: dict[int, None] = {}
    for part in selection.split(","):
        match = _RANGE.fullmatch(part)
        if match is None:
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"`pages` must look like 1-3,5; {part.strip()!r} is not "
                               "a page or a range", details={"param": "pages"})
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1 <= first <= last <= page_count:
            raise PerceptError(ErrorCode.PAGES_OUT_OF_RANGE, f"pages {part.strip()} are not within 1-{page_count} "
                               f"(the PDF has {page_count} pages)", details={"param": "pages"})
        for number in range(first, last + 1):
            pages[number] = None
            if len(pages) > max_pages:
                raise too_many()
    return list(pages)


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_raw.FPDF_ERR_PASSWORD, pdfium_raw.FPDF_ERR_SECURITY):
            raise PerceptError(ErrorCode.ENCRYPTED_PDF, "the PDF is encrypted (it needs a password)") from None
        raise PerceptError(ErrorCode.INVALID_PDF, f"not a readable PDF: {exc}") from None
    if len(document) == 0:
        document.close()
        raise PerceptError(ErrorCode.INVALID_PDF, "the PDF has no pages")
    return document


def _scale(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> float:
    scale = dpi / _POINTS_PER_INCH
    area = max(width_pt, 1.0) * max(height_pt, 1.0)
    return min(scale, math.sqrt(max_pixels / area))


def render_pdf(data: bytes, selection: str | None, *, max_bytes: int, max_pages: int, dpi: int,
               max_pixels: int) -> list[RenderedPage]:
    """The selected pages as PNGs (blocking: call it in a worker thread)."""
    if len(data) > max_bytes:
        raise PerceptError(ErrorCode.PAYLOAD_TOO_LARGE, f"the PDF is {len(data)} bytes; the limit is {max_bytes}",
                           details={"param": "pdf"})
    if not data.lstrip()[:5] == b"%PDF-":
        raise PerceptError(ErrorCode.INVALID_PDF, "not a PDF (no %PDF- header)")
    with _LOCK:
        document = _open(data)
        try:
            pages = select_pages(selection, len(document), max_pages)
            rendered = []
            for number in pages:
                try:
                    page = document[number - 1]
                    try:
                        width, height = page.get_size()
                        bitmap = page.render(scale=_scale(width, height, dpi, max_pixels))
                        image = bitmap.to_pil().convert("RGB")
                    finally:
                        page.close()
                except pdfium.PdfiumError as exc:
                    raise PerceptError(ErrorCode.INVALID_PDF, f"page {number} cannot be rendered: {exc}") from None
                buffer = io.BytesIO()
                image.save(buffer, format="PNG", compress_level=1)  # fast: it only travels to Triton
                rendered.append(RenderedPage(number, image.width, image.height, buffer.getvalue()))
            return rendered
        finally:
            document.close()
