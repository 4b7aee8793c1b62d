"""PDF intake (gateway/pdf.py): page selection and cap, byte cap, pixel cap, corrupt and encrypted PDFs."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from pydantic import ValidationError

from gateway.pdf import render_pdf, select_pages
from gateway.vqa_schemas import VqaOptions
from services.common.errors import ErrorCode, PerceptError
from tests.unit.gateway.pdf_samples import corrupt_pdf, encrypted_pdf, pdf_with_pages, plain_hand_written_pdf

LIMITS = dict(max_bytes=1 << 20, max_pages=4, dpi=72, max_pixels=10_000_000)


def _code(call) -> ErrorCode:
    with pytest.raises(PerceptError) as caught:
        call()
    return caught.value.code


def test_selection_keeps_order_and_drops_repeats():
    assert select_pages("3,1-2,2", 5, 4) == [3, 1, 2]
    assert select_pages(None, 3, 4) == [1, 2, 3]
    assert select_pages(" ", 3, 4) == [1, 2, 3]


@pytest.mark.parametrize("selection", ["0", "a", "1-", "1,,2", "\u0661", "1\n"])
def test_a_malformed_selection_is_invalid_request_and_the_schema_refuses_it(selection):
    assert _code(lambda: select_pages(selection, 5, 4)) is ErrorCode.INVALID_REQUEST
    with pytest.raises(ValidationError):  # the document's pattern: refused as the body is read
        VqaOptions(question="q", pages=selection)


@pytest.mark.parametrize("selection", ["6", "2-1", "4-6"])
def test_pages_outside_the_pdf_are_a_content_refusal_the_schema_takes(selection):
    """Only the PDF shows how many pages it has: 422 pages_out_of_range, for a selection the schema takes."""
    assert _code(lambda: select_pages(selection, 5, 4)) is ErrorCode.PAGES_OUT_OF_RANGE
    assert VqaOptions(question="q", pages=selection).pages == selection
    assert PerceptError(ErrorCode.PAGES_OUT_OF_RANGE, "").http_status == 422


@pytest.mark.parametrize("selection, pages", [("1-3,5", [1, 2, 3, 5]), (" 1 - 2 , 05 ", [1, 2, 5]),
                                              ("\t", [1, 2, 3, 4, 5]), ("", [1, 2, 3, 4, 5])])
def test_what_the_schema_takes_is_read(selection, pages):
    assert VqaOptions(question="q", pages=selection).pages == selection
    assert select_pages(selection, 5, 5) == pages


def test_too_many_pages():
    assert _code(lambda: select_pages("1-5", 5, 4)) is ErrorCode.TOO_MANY_PAGES
    assert _code(lambda: select_pages(None, 5, 4)) is ErrorCode.TOO_MANY_PAGES
    assert _code(lambda: select_pages("1-1000000000", 2**31, 4)) is ErrorCode.TOO_MANY_PAGES  # stops early


def test_selected_pages_render_as_pngs_at_the_resolution():
    pages = render_pdf(pdf_with_pages(3, (300, 400)), "3,1", **{**LIMITS, "dpi": 144})
    assert [p.page for p in pages] == [3, 1]
    image = Image.open(io.BytesIO(pages[0].png))
    assert image.format == "PNG" and image.size == (600, 800) == (pages[0].width, pages[0].height)


def test_a_huge_page_is_rendered_under_the_pixel_cap():
    page, = render_pdf(pdf_with_pages(1, (14400, 14400)), None, **{**LIMITS, "max_pixels": 250_000})
    assert page.width * page.height <= 250_000 and page.width >= 490


def test_refusals():
    assert _code(lambda: render_pdf(pdf_with_pages(1), None, **{**LIMITS, "max_bytes": 100})) \
        is ErrorCode.PAYLOAD_TOO_LARGE
    assert _code(lambda: render_pdf(b"hello", None, **LIMITS)) is ErrorCode.INVALID_PDF
    assert _code(lambda: render_pdf(corrupt_pdf(), None, **LIMITS)) is ErrorCode.INVALID_PDF
    assert _code(lambda: render_pdf(pdf_with_pages(5), None, **LIMITS)) is ErrorCode.TOO_MANY_PAGES


def test_an_encrypted_pdf_is_refused_as_such():
    assert len(render_pdf(plain_hand_written_pdf(), None, **LIMITS)) == 1  # the hand-written PDF is sound
    assert _code(lambda: render_pdf(encrypted_pdf(), None, **LIMITS)) is ErrorCode.ENCRYPTED_PDF
