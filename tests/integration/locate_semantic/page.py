"""The semantic tests' page: a few lines of an invoice drawn with PIL in DejaVu Sans (matplotlib's
bundled font) on a white A5 page at 110 dpi, x-height 14 px, and where one word of it was drawn.

The drawn word's box is the bounding box of its own ink: the word is drawn a second time, alone,
into a mask, and every variant of the page (rotated, scaled) transforms that mask with the same
operation as the pixels, so the box stays the ink's in each variant's own pixels.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PAGE_SIZE = (640, 910)          # A5 (148 x 210 mm) at 110 dpi
FONT_PX = 26                    # DejaVu Sans at 26 px: an x-height of 14 px
MARGIN, LINE_PITCH, TOP = 48, 52, 56
# One word each on a few lines; the target occurs once, and no other word holds it.
LINES = (
    "Harbor Supplies Ltd",
    "Invoice number 20417",
    "Date 12 March 2024",
    "",
    "Delivery address",
    "4 Mill Lane, Bristol",
    "",
    "Paper reams 12 boxes",
    "Printer ink 3 units",
    "Total due 184.50",
    "",
    "Thank you for your order",
)
TARGET = "address"
ABSENT = "module"               # one piece of the model's vocabulary, drawn nowhere on the page
INK = 64                        # a mask pixel at least this dark-on-light counts as the word's ink
HIT_IOU = 0.5                   # the hit: the best match's IoU with the drawn box

Box = tuple[float, float, float, float]


def font_path(name: str = "DejaVuSans.ttf") -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def x_height(size: int = FONT_PX) -> int:
    """Pixels of ink of an 'x' at `size`."""
    font = ImageFont.truetype(str(font_path()), size)
    mask = Image.new("L", (4 * size, 4 * size), 0)
    ImageDraw.Draw(mask).text((size, size), "x", font=font, fill=255)
    x0, y0, x1, y1 = mask.getbbox()
    return y1 - y0


@dataclass(frozen=True)
class Page:
    image: Image.Image          # RGB, what is sent
    mask: Image.Image           # L, the target word's ink alone, in the same pixels

    @property
    def target_box(self) -> Box:
        """The target's ink box (x0, y0, x1, y1) in this page's pixels."""
        ys, xs = np.nonzero(np.asarray(self.mask) >= INK)
        return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()

    def rotated(self, degrees: float) -> "Page":
        """Turned counter-clockwise about its centre, the canvas grown to hold it, white around."""
        return Page(self.image.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor="white"),
                    self.mask.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor=0))

    def scaled(self, factor: float) -> "Page":
        size = (round(self.image.width * factor), round(self.image.height * factor))
        return Page(self.image.resize(size, Image.LANCZOS), self.mask.resize(size, Image.BILINEAR))


def render_page(target: str = TARGET, lines: tuple[str, ...] = LINES) -> Page:
    """The page, its words drawn one by one, left to right on each line; the target's ink also in the mask."""
    font = ImageFont.truetype(str(font_path()), FONT_PX)
    image = Image.new("RGB", PAGE_SIZE, "white")
    mask = Image.new("L", PAGE_SIZE, 0)
    draw, draw_mask = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    space = font.getlength(" ")
    drawn = 0
    for row, line in enumerate(lines):
        x, y = float(MARGIN), TOP + row * LINE_PITCH
        for word in line.split():
            draw.text((x, y), word, font=font, fill=(20, 20, 20))
            if word == target:
                draw_mask.text((x, y), word, font=font, fill=255)
                drawn += 1
            x += font.getlength(word) + space
    if drawn != 1:
        raise ValueError(f"the target {target!r} is drawn {drawn} times; the page must hold it once")
    return Page(image, mask)


def transposed(box: Box) -> Box:
    """The box with x and y swapped: what a pipeline that mixes up rows and columns would answer."""
    x0, y0, x1, y1 = box
    return y0, x0, y1, x1


# The variants the semantic tests send: name -> (the variant of the page, max_tiles of the request:
# None for the model's default grid).
VARIANTS = {
    "as drawn": lambda page: (page, None),
    "rotated 2 degrees": lambda page: (page.rotated(2.0), None),
    "scaled 0.75x": lambda page: (page.scaled(0.75), None),
    "scaled 1.5x": lambda page: (page.scaled(1.5), None),
    "one tile": lambda page: (page, 1),
}
