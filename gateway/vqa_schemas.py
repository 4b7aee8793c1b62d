"""Request and response models of document VQA (`POST /v1/documents/vqa`)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .schemas import BASE64, EXAMPLE_IMAGE_BASE64, MIN_TOP_P, JsonBody, ModelRef, not_null

MAX_QUESTION_CHARS = 4096
# `pages`: blank (every page) or comma-separated pages and ranges of 1-based page numbers, e.g. `1-3,5`
# (gateway/pdf.py reads each range with PAGE). Whether the pages are in the PDF only the PDF shows (422).
PAGE = r"0*[1-9][0-9]*"
PAGE_RANGE = rf"[ \t]*{PAGE}[ \t]*(?:-[ \t]*{PAGE}[ \t]*)?"
PAGES_PATTERN = rf"^(?:[ \t]*|{PAGE_RANGE}(?:,{PAGE_RANGE})*)$"


class VqaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S",
                          description="The question about the document.")
    pages: str = Field(None, max_length=256, pattern=PAGES_PATTERN, json_schema_extra=not_null,
                       description="PDF pages to read, e.g. `1-3,5` (1-based; default: all, at most "
                                   "PERCEPT_GATEWAY_MAX_PDF_PAGES).")
    max_tokens: int | None = Field(None, ge=1, description="Most tokens of the answer (default: the model's); at "
                                                           "most PERCEPT_GATEWAY_MAX_COMPLETION_TOKENS.")
    temperature: float | None = Field(None, ge=0, le=2, description="0 or absent: greedy.")
    top_p: float | None = Field(None, ge=MIN_TOP_P, le=1)
    top_k: int | None = Field(None, ge=0, le=2**31 - 1)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Makes sampling reproducible (0 or more).")
    stream: bool = Field(False, description="Send the answer's text as server-sent events while it is generated, "
                                            "then the response (see docs/api.md).")


# The document is either page images or one PDF, never both, and `pages` selects PDF pages only
# (gateway/vqa_inputs.py refuses the other combinations).
ONE_DOCUMENT = [{"required": ["images"], "not": {"anyOf": [{"required": ["pdf"]}, {"required": ["pages"]}]}},
                {"required": ["pdf"], "not": {"required": ["images"]}}]


class VqaJsonRequest(VqaOptions, JsonBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": ONE_DOCUMENT, "examples": [
        {"images": [EXAMPLE_IMAGE_BASE64], "question": "What is the total?", "max_tokens": 8}]})

    images: list[Annotated[str, Field(json_schema_extra=BASE64)]] = Field(
        None, min_length=1, json_schema_extra=not_null,
        description="Page images (PNG, JPEG, ...), base64-encoded, in order.")
    pdf: str = Field(None, json_schema_extra=lambda schema: (not_null(schema), schema.update(BASE64)),
                     description="A PDF, base64-encoded (instead of images).")


class VqaMultipartRequest(VqaOptions):
    """The multipart form (documentation only: gateway/vqa_inputs.py reads the form)."""
    model_config = ConfigDict(json_schema_extra={"oneOf": ONE_DOCUMENT})

    images: list[bytes] = Field(None, min_length=1, json_schema_extra=not_null,
                                description="Page images; repeat the field for several.")
    pdf: bytes = Field(None, json_schema_extra=not_null, description="A PDF (instead of images).")


class PageSource(str, Enum):
    image = "image"
    pdf = "pdf"


class PageProvenance(BaseModel):
    index: int = Field(description="Position of this image in the model's input (0-based).")
    source: PageSource
    page: int | None = Field(None, description="The PDF page number (1-based), for a PDF.")
    upload: int | None = Field(None, description="Which uploaded image (0-based), for images.")
    width: int
    height: int


class VqaUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class VqaTimings(BaseModel):
    intake_s: float = Field(description="Reading the request, checking the images, rendering the PDF.")
    time_to_first_token_s: float | None
    generation_s: float
    total_s: float


class VqaDelta(BaseModel):
    """A streamed piece of the answer (`event: delta`)."""
    text: str = Field(description="The answer's text generated since the previous delta.")


class VqaResponse(BaseModel):
    request_id: str
    model: ModelRef
    question: str
    answer: str
    finish_reason: str = Field(description="stop or length.")
    pages: list[PageProvenance]
    usage: VqaUsage
    timings: VqaTimings
