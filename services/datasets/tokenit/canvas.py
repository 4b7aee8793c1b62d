"""What a page layout draws on: text runs, rules and filled boxes, in points (1/72 inch).

Two renderers implement it (``raster.PilCanvas``: PIL text, ``pdf.PdfCanvas``: a typeset PDF
rasterised by pdfium); the layouts do not know which one they draw on. Both place a line of
text by its top edge with the same metrics (baseline at ``ASCENT`` of the size, line height
``LEADING`` of it), and both give back every drawn character with its ink box in pixels.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

ASCENT = 0.8      # baseline below a line's top, as a fraction of the font size
LEADING = 1.25    # line height, as a fraction of the font size

Color = tuple[int, int, int]
Box = tuple[float, float, float, float]   # x0, y0, x1, y1 in pixels, y down


@dataclass(frozen=True)
class Style:
    font: str          # a key of the canvas's fonts()
    size: float        # points
    color: Color = (0, 0, 0)


@dataclass
class Rendered:
    """A rasterised page: the image and every drawn character with its ink box (None for a
    space); a None character separates text runs."""
    image: "object"                                   # PIL.Image.Image, RGB
    chars: list[tuple[str | None, Box | None]] = field(default_factory=list)
    fonts: list[str] = field(default_factory=list)   # faces used, for the record


class Canvas(Protocol):
    width: float
    height: float

    def fonts(self, kind: str, *, bold: bool = False, italic: bool = False) -> list[str]:
        """Font keys of a kind (serif, sans, mono) and weight; never empty for regular weight."""

    def pick(self, rng: random.Random, kind: str, *, bold: bool = False, italic: bool = False) -> str: ...

    def measure(self, text: str, style: Style) -> float:
        """Advance width of `text` in points."""

    def text(self, x: float, y: float, text: str, style: Style) -> None:
        """Draw one line of text with its top-left at (x, y) points."""

    def rect(self, x0: float, y0: float, x1: float, y1: float, *, fill: Color | None = None,
             outline: Color | None = None, width: float = 0.5) -> None: ...

    def render(self, dpi: float) -> Rendered: ...


def pick_font(fonts_of, rng: random.Random, kind: str, bold: bool, italic: bool) -> str:
    """A font of the wanted kind and weight, falling back to the kind's regular faces."""
    choices = fonts_of(kind, bold=bold, italic=italic) or fonts_of(kind)
    return rng.choice(choices)
