"""Request and response models: the OpenAPI document is generated from these."""
from __future__ import annotations

import base64
import binascii
import re
import types
import typing
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.models.family import ModelTask  # a card's task: the model families' vocabulary
from services.models.tokenfd.query_matches import BOXES, NUMBER_RANGES, RANKINGS, Decoding


class HeatmapFormat(str, Enum):
    png = "png"    # base64 PNG, coloured, per-token min-max normalised, at (up to) the image size
    raw = "raw"    # the raw cosine-similarity grid (rows x cols floats)
    none = "none"  # no heatmap, boxes only


# services/common/queries.py: at least one non-blank character, no control character but tab.
QUERY_PATTERN = r"^[^\x00-\x08\x0a-\x1f]*[^\s\x00-\x1f][^\x00-\x08\x0a-\x1f]*$"


MAX_MATCHES = 100          # most whole-query matches a request may ask for
MAX_HEATMAP_TOKENS = 16    # most token indices in heatmap_tokens
MIN_HEATMAP_SIDE = 16      # smallest heatmap_max_side


def decimal_up_to(maximum: int) -> str:
    """A regular expression (unanchored) of the decimal numbers 0..maximum, written without leading zeros."""
    digits = str(maximum)
    def any_digits(count: int) -> str:
        return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"

    shorter = ["[0-9]" if length == 1 else "[1-9]" + any_digits(length - 1) for length in range(1, len(digits))]
    # as many digits as `maximum`: its first i digits, then a smaller digit, then any digits
    below = []
    for i, digit in enumerate(digits):
        low, high = (1 if i == 0 and len(digits) > 1 else 0), int(digit) - 1
        if high >= low:
            below.append(digits[:i] + f"[{low}-{high}]" + any_digits(len(digits) - i - 1))
    return "(?:" + "|".join([*shorter, *below, digits]) + ")"


def heatmap_tokens_text(max_index: int | None = None) -> str:
    """heatmap_tokens in a form: comma-separated indices ("0,2"), at most MAX_HEATMAP_TOKENS, each without
    leading zeros and at most `max_index` (None: six digits; the gateway's document states its own bound,
    PERCEPT_MAX_QUERY_TOKENS - 1, and inputs.py refuses an index above it). Not one field per index: a form
    cannot tell one field from a one-item list, so the document could not state which it is."""
    number = "(?:0|[1-9][0-9]{0,5})" if max_index is None else decimal_up_to(max_index)
    return rf"^{number}(?:,{number}){{0,{MAX_HEATMAP_TOKENS - 1}}}$"


HEATMAP_TOKENS_TEXT = heatmap_tokens_text()


class LocateOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Stated in the document only: validate_query's own check answers a bad query as 422 invalid_query.
    query: str = Field(json_schema_extra={"minLength": 1, "pattern": QUERY_PATTERN},
                       description="The text to find in the image.")
    max_tiles: int | None = Field(None, ge=1, description="Largest tile grid (default: the model's).")
    heatmap_format: HeatmapFormat = HeatmapFormat.png
    threshold: float | None = Field(None, ge=-1.0, le=1.0,
                                    description="Cosine-similarity threshold for boxes and matches (default: "
                                                "PERCEPT_BOX_THRESHOLD when set, else the threshold the served "
                                                "checkpoint records, else 0.2).")
    max_boxes: int = Field(20, ge=0, le=500, description="Most boxes returned per token.")
    max_matches: int = Field(10, ge=0, le=MAX_MATCHES, description="Most matches of the whole query returned.")
    # Their upper bounds are settings (inputs.py checks them; the document states them: gateway/app.py).
    heatmap_tokens: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, max_length=MAX_HEATMAP_TOKENS,
        description="Indices of the tokens whose heatmaps are returned (default: every token's), each below "
                    "PERCEPT_MAX_QUERY_TOKENS; an index past the query's last token selects nothing.")
    heatmap_max_side: int | None = Field(None, ge=MIN_HEATMAP_SIDE,
                                         description="Longest side of a PNG heatmap, in pixels (default and "
                                                     "maximum: PERCEPT_HEATMAP_MAX_SIDE).")


# A 64x48 PNG: the documented example, which Swagger UI pre-fills and the contract fuzzer sends.
EXAMPLE_IMAGE_BASE64 = ("iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAAQUlEQVR42u3PAQkAAAgDsCv2z2wLQdga"
                        "rJLMZz3PCQgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICNxZVAWQVNGbfqsAAAAASUVORK5C"
                        "YII=")


# Base64 as the gateway reads it (decode_base64): the standard alphabet, padded, nothing after the padding.
# Stated in the document only: the reader takes exactly this and answers anything else as 422 invalid_image.
BASE64_TEXT = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
BASE64 = {"pattern": f"^{BASE64_TEXT}$"}


def decode_base64(encoded: str) -> bytes | None:
    """The bytes of exactly what the document's pattern (BASE64_TEXT) takes, else None.
    b64decode(validate=True) refuses other characters and padding before the end, but takes excess
    padding after whole quanta ("AAAA=", "AAAA===="): the length and the padding's size are checked here
    (faster than the pattern on a large body; tests/unit/gateway/test_gateway_document_patterns.py checks they
    agree)."""
    if len(encoded) % 4 or encoded.endswith("==="):
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


# The smallest top_p that reaches a model as more than 0 (FP32's smallest normal number): the
# generation contract and the code-perception proto carry top_p as a 32-bit float.
MIN_TOP_P = 1.1754943508222875e-38


def not_null(schema: dict) -> None:
    """`json_schema_extra` of an optional field that may be left out but not sent as null: the
    schema shows no `default: null` (a value its own type refuses)."""
    schema.pop("default", None)


class JsonBody(BaseModel):
    """Base of the models that validate a whole JSON body strictly (gateway/inputs.py)."""

    @field_validator("*", mode="before")
    @classmethod
    def _integral_numbers_are_integers(cls, value, info: ValidationInfo):
        """JSON Schema counts 12.0 as an integer; the strict validation of JSON bodies (which
        refuses "5" or true for a number) would not, so such values become ints first, in a list of
        integers too."""
        admitted = _types(cls.model_fields[info.field_name].annotation)
        if _integral(value) and int in admitted:
            return int(value)
        if isinstance(value, list) and any(typing.get_origin(t) is list and int in _types(typing.get_args(t)[0])
                                           for t in admitted):
            return [int(item) if _integral(item) else item for item in value]
        return value


def _integral(value) -> bool:
    return isinstance(value, float) and value.is_integer()


def _types(annotation) -> tuple:
    """The types a field's annotation admits: the members of a union, the type inside Annotated."""
    if typing.get_origin(annotation) is Annotated:
        return _types(typing.get_args(annotation)[0])
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(t for member in typing.get_args(annotation) for t in _types(member))
    return (annotation,)


class LocateJsonRequest(LocateOptions, JsonBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"image": EXAMPLE_IMAGE_BASE64, "query": "Total amount", "heatmap_format": "none"}]})

    image: str = Field(json_schema_extra=BASE64,
                       description="The image file (PNG, JPEG, WebP, BMP, TIFF, GIF), base64-encoded.")


class LocateFormFields(LocateOptions):
    """The text fields of a multipart locate request, as inputs.py reads them (converted laxly)."""

    @field_validator("heatmap_tokens", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            if re.fullmatch(HEATMAP_TOKENS_TEXT, value) is None:
                raise ValueError(f"comma-separated token indices (at most {MAX_HEATMAP_TOKENS}), e.g. 0,2")
            return value.split(",")
        return value


class LocateMultipartRequest(LocateOptions):
    """The multipart form of a locate request (documentation only: inputs.py reads the form)."""

    image: bytes = Field(description="The image file (PNG, JPEG, WebP, BMP, TIFF, GIF).")
    heatmap_tokens: str | None = Field(None, pattern=HEATMAP_TOKENS_TEXT,
                                       description="Comma-separated indices of the tokens whose heatmaps are "
                                                   "returned, e.g. `0,2` (default: every token's), each below "
                                                   "PERCEPT_MAX_QUERY_TOKENS; an index past the query's last "
                                                   "token selects nothing.")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable error code.")
    message: str
    retry_after_s: float | None = None
    request_id: str | None = None
    details: dict | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Heatmap(BaseModel):
    format: HeatmapFormat
    width: int
    height: int
    png_base64: str | None = None
    values: list[list[float]] | None = None


class BoxOut(BaseModel):
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = Field(description="Highest cosine similarity inside the box.")


class LocateDecoding(BaseModel):
    """How the served model's maps are read into boxes and matches: recorded with a checkpoint trained
    here and calibrated on held-out pages; official checkpoints keep upstream's reading (no cut, by peak)."""

    peak_share: float = Field(ge=NUMBER_RANGES["peak_share"][0], lt=NUMBER_RANGES["peak_share"][1],
                              description="Above 0: a box is the cells above this share of its token map's own "
                              "peak, kept when its peak is above the threshold; 0: the cells above the threshold.")
    rank: Literal[RANKINGS] = Field(description="What orders boxes and matches, best first: `peak`, their highest "
                                    "similarity; `mass`, their similarity above the cut summed over their cells.")
    boxes: Literal[BOXES] = Field(description="Where `matches` come from: `maps`, the token boxes chained along a "
                                  "line; `ink`, the image's word boxes (its ink, with the gaps between glyphs "
                                  "closed at several widths), each token's map read in its share of the box.")
    aspect: float = Field(ge=NUMBER_RANGES["aspect"][0], le=NUMBER_RANGES["aspect"][1],
                          description="With `ink`: log(width / (height x characters)) of a box that holds the query.")
    length_weight: float = Field(ge=NUMBER_RANGES["length_weight"][0], le=NUMBER_RANGES["length_weight"][1],
                                 description="With `ink`: what a match's rank (`mass`) loses per unit of distance "
                                 "between its box's log shape and `aspect`.")
    span_mean: float = Field(ge=NUMBER_RANGES["span_mean"][0], le=NUMBER_RANGES["span_mean"][1],
                             description="With `ink`: the share of a token's reading in its span that is the map's "
                             "mean there (the rest is its peak).")
    letters: float = Field(ge=NUMBER_RANGES["letters"][0], le=NUMBER_RANGES["letters"][1],
                           description="With `ink`, for a one-word query: what a match's rank (`mass`) gains per unit "
                           "of its letters' reading (each character's own map read in its share of the box, mixed "
                           "as the tokens' are); 0: the query is not read letter by letter.")
    likeness: float = Field(ge=NUMBER_RANGES["likeness"][0], le=NUMBER_RANGES["likeness"][1],
                            description="With `ink`: what a match's `score` (and so its rank) gains per unit of its "
                            "box's likeness to the query drawn in print (the ink's correlation with the query drawn "
                            "in reference faces, -1 to 1); 0: the ink is not compared with a drawing.")

    @classmethod
    def of(cls, decoding: Decoding) -> "LocateDecoding":
        return cls(**decoding.to_json())


class TokenResult(BaseModel):
    index: int
    token_id: int
    text: str = Field(description="The tokenizer's piece for this token.")
    max_similarity: float
    heatmap: Heatmap | None = None
    boxes: list[BoxOut]


class GridInfo(BaseModel):
    cols: int
    rows: int
    num_tiles: int = Field(description="Tiles run through the encoder, thumbnail included.")
    thumbnail: bool
    tile_size: int
    feature_width: int = Field(description="Width of the stitched similarity grid (128 per tile).")
    feature_height: int


class ImageInfo(BaseModel):
    width: int
    height: int


class ModelRef(BaseModel):
    name: str
    id: str
    triton_model: str


class Timings(BaseModel):
    decode_s: float
    upstream_s: float
    postprocess_s: float
    total_s: float


class QueryMatch(BaseModel):
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = Field(description="Mean of the chained token regions' peak cosine similarities (with "
                         "`decoding.boxes` = `ink`: of each token's reading in its span of the word box).")
    mass: float = Field(description="Mean of the chained token regions' masses: similarity above the cut, summed "
                                    "over their feature cells (what `decoding.rank` = `mass` orders by). With "
                                    "`decoding.boxes` = `ink`: what orders the matches, `score` less "
                                    "`decoding.length_weight` times the box's distance from the query's shape, plus "
                                    "`decoding.letters` times its letters' reading for a spelled one-word query.")
    tokens: list[int] = Field(description="Indices of the query's tokens in the match, in order.")


class LocateResponse(BaseModel):
    request_id: str
    model: ModelRef
    query: str
    threshold: float = Field(description="The threshold used: the request's, else the default (see the request's "
                                         "`threshold`).")
    decoding: LocateDecoding = Field(description="How the maps were read into boxes and matches (the model's).")
    matches: list[QueryMatch] = Field(description="Places where the query's tokens stand together, in order, "
                                                  "along a text line: one box each, best first by "
                                                  "`decoding.rank`.")
    tokens: list[TokenResult]
    grid: GridInfo
    image: ImageInfo
    timings: Timings


class ModelCard(BaseModel):
    """A served model, in OpenAI's model shape (`id`, `object`, `created`, `owned_by`) plus the platform's fields."""

    id: str = Field(description="The served model's name: what a chat request names as `model` (of a `chat` card).")
    object: str = "model"
    created: int = Field(description="Unix time this gateway started serving it.")
    owned_by: str = "percept"
    name: str = Field(description="The same as `id` (kept for clients of the earlier shape).")
    revision: str | None = Field(None, description="Digest of the served weights; changes when the model is "
                                                   "rebuilt. A chat model answers to it as `model` too.")
    triton_model: str | None = Field(None, description="The Triton model serving it (a chat model answers to it "
                                                       "as `model` too); null for code perception's generator.")
    backend: str | None = Field(None, description="Code perception's generation backend (reference, openai, "
                                                  "triton); null for the gateway's own Triton models.")
    task: ModelTask = Field(description="What it does; only `chat` models take chat completions and VQA.")
    ready: bool
    threshold: float | None = Field(None, description="A `text-location` model's default threshold: what a locate "
                                    "request without `threshold` uses (PERCEPT_BOX_THRESHOLD when set, else the "
                                    "threshold the checkpoint records, else 0.2); null for other tasks.")
    decoding: LocateDecoding | None = Field(None, description="A `text-location` model's reading of its maps "
                                            "(see the locate response's `decoding`); null for other tasks.")


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: str
    checks: dict[str, bool] = {}
    models: dict[str, str] = Field({}, description="Readiness: the checkpoint each ready model of the text domain "
                                   "serves, by Triton model (e.g. `tokenfd_locate`: `tokenfd-mini`).")
