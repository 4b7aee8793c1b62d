"""Pages drawn with PIL from the font files of ``fonts`` (any TrueType/OpenType face).

Drawing is recorded and replayed at render time, so a layout is written in points and the
page is rasterised once at the chosen resolution. Each character's ink box is PIL's box of that
glyph drawn at its own pen position (basic layout: no kerning, so the pen positions are the
sums of the advances that `measure` returns).
"""
from __future__ import annotations

import functools
import random

from PIL import Image, ImageDraw, ImageFont

from . import fonts as font_files
from .canvas import ASCENT, Color, Rendered, Style, pick_font


@functools.lru_cache(maxsize=512)
def _font(path: str, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(1, pixels), layout_engine=ImageFont.Layout.BASIC)


MEASURE_PIXELS = 100   # measuring size: advances scale linearly with the size


class PilCanvas:
    def __init__(self, width: float, height: float, background: Color = (255, 255, 255),
                 faces: tuple[font_files.Face, ...] | None = None) -> None:
        self.width, self.height, self.background = width, height, background
        self._faces = {face.name: face for face in (faces or font_files.faces())}
        self._ops: list[tuple] = []

    def fonts(self, kind: str, *, bold: bool = False, italic: bool = False) -> list[str]:
        return [name for name, face in self._faces.items()
                if face.kind == kind and face.bold == bold and face.italic == italic]

    def pick(self, rng: random.Random, kind: str, *, bold: bool = False, italic: bool = False) -> str:
        return pick_font(self.fonts, rng, kind, bold, italic)

    def measure(self, text: str, style: Style) -> float:
        font = _font(self._faces[style.font].path, MEASURE_PIXELS)
        return font.getlength(text) * style.size / MEASURE_PIXELS

    def text(self, x: float, y: float, text: str, style: Style) -> None:
        self._ops.append(("text", x, y, text, style))

    def rect(self, x0, y0, x1, y1, *, fill=None, outline=None, width=0.5) -> None:
        self._ops.append(("rect", x0, y0, x1, y1, fill, outline, width))

    def render(self, dpi: float) -> Rendered:
        scale = dpi / 72.0
        image = Image.new("RGB", (round(self.width * scale), round(self.height * scale)), self.background)
        draw = ImageDraw.Draw(image)
        rendered = Rendered(image=image)
        used = set()
        for op in self._ops:
            if op[0] == "rect":
                _, x0, y0, x1, y1, fill, outline, width = op
                draw.rectangle((x0 * scale, y0 * scale, x1 * scale, y1 * scale), fill=fill, outline=outline,
                               width=max(1, round(width * scale)))
                continue
            _, x, y, text, style = op
            face = self._faces[style.font]
            used.add(face.name)
            pixels = round(style.size * scale)
            font = _font(face.path, pixels)
            baseline = (y + ASCENT * style.size) * scale
            pen = x * scale
            rendered.chars.append((None, None))
            for char in text:
                if char.isspace():
                    rendered.chars.append((char, None))
                else:
                    box = draw.textbbox((pen, baseline), char, font=font, anchor="ls")
                    draw.text((pen, baseline), char, font=font, fill=style.color, anchor="ls")
                    rendered.chars.append((char, box if box[2] > box[0] and box[3] > box[1] else None))
                pen += font.getlength(char)
        rendered.fonts = sorted(used)
        return rendered
