"""Pages typeset as real PDFs (fpdf2) and rasterised by pdfium, as real documents are.

Fonts: the PDF base-14 families (Times, Helvetica, Courier and their bold/italic), which pdfium
draws with its own built-in faces, plus the TrueType faces of ``fonts`` embedded in the file.
The characters and their ink boxes come back from pdfium's text layer of the same page, so the
ground truth is what a PDF reader extracts, not what the layout intended.
"""
from __future__ import annotations

import random

from . import fonts as font_files
from .canvas import ASCENT, Rendered, Style, pick_font

# key -> (fpdf family, style); pdfium substitutes its built-in faces for these
CORE_FONTS = {
    "Times": ("Times", "", "serif", False, False), "Times-Bold": ("Times", "B", "serif", True, False),
    "Times-Italic": ("Times", "I", "serif", False, True),
    "Helvetica": ("Helvetica", "", "sans", False, False), "Helvetica-Bold": ("Helvetica", "B", "sans", True, False),
    "Helvetica-Oblique": ("Helvetica", "I", "sans", False, True),
    "Courier": ("Courier", "", "mono", False, False), "Courier-Bold": ("Courier", "B", "mono", True, False),
}
# A line break pdfium inserts between text objects; never part of a word.
BREAKS = "\r\n"


class PdfCanvas:
    def __init__(self, width: float, height: float, background=(255, 255, 255),
                 faces: tuple[font_files.Face, ...] | None = None) -> None:
        from fpdf import FPDF

        self.width, self.height = width, height
        self.pdf = FPDF(unit="pt", format=(width, height))
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margin(0)
        self.pdf.add_page()
        if background != (255, 255, 255):
            self.pdf.set_fill_color(*background)
            self.pdf.rect(0, 0, width, height, style="F")
        # TrueType only: fpdf2 embeds .ttf faces (CFF-flavoured .otf is left to the PIL renderer)
        self._faces = {face.name: face for face in (faces or font_files.faces()) if face.path.endswith(".ttf")}
        self._added: set[str] = set()
        self._used: set[str] = set()

    def fonts(self, kind: str, *, bold: bool = False, italic: bool = False) -> list[str]:
        core = [key for key, (_, _, k, b, i) in CORE_FONTS.items() if (k, b, i) == (kind, bold, italic)]
        embedded = [name for name, face in self._faces.items()
                    if (face.kind, face.bold, face.italic) == (kind, bold, italic)]
        return core + embedded

    def pick(self, rng: random.Random, kind: str, *, bold: bool = False, italic: bool = False) -> str:
        # core faces half of the time: they are what most PDFs in the wild use
        core = [key for key in self.fonts(kind, bold=bold, italic=italic) if key in CORE_FONTS]
        if core and rng.random() < 0.5:
            return rng.choice(core)
        return pick_font(self.fonts, rng, kind, bold, italic)

    def _select(self, style: Style) -> None:
        if style.font in CORE_FONTS:
            family, emphasis = CORE_FONTS[style.font][:2]
        else:
            family, emphasis = style.font, ""
            if family not in self._added:
                self.pdf.add_font(family, "", self._faces[family].path)
                self._added.add(family)
        self.pdf.set_font(family, emphasis, style.size)
        self._used.add(style.font)

    def measure(self, text: str, style: Style) -> float:
        self._select(style)
        return self.pdf.get_string_width(text)

    def text(self, x: float, y: float, text: str, style: Style) -> None:
        self._select(style)
        self.pdf.set_text_color(*style.color)
        self.pdf.text(x, y + ASCENT * style.size, text)

    def rect(self, x0, y0, x1, y1, *, fill=None, outline=None, width=0.5) -> None:
        if fill is not None:
            self.pdf.set_fill_color(*fill)
        if outline is not None:
            self.pdf.set_draw_color(*outline)
        self.pdf.set_line_width(width)
        style = ("F" if fill is not None else "") + ("D" if outline is not None else "")
        if style:
            self.pdf.rect(x0, y0, x1 - x0, y1 - y0, style="DF" if style == "FD" else style)

    def render(self, dpi: float) -> Rendered:
        image, chars = read_first_page(bytes(self.pdf.output()), dpi)
        return Rendered(image=image, chars=[(None, None)] + chars, fonts=sorted(self._used))


def read_first_page(pdf: bytes, dpi: float):
    """A PDF's first page rendered by pdfium at `dpi` (a PIL image) and its text layer's characters in
    order: (char, (x0, y0, x1, y1) in image pixels, or None for a space or a char without ink), and
    (None, None) for each line break pdfium puts between text objects (a word never spans one)."""
    import pypdfium2 as pdfium

    scale = dpi / 72.0
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=scale).to_pil().convert("RGB")
        text_page = page.get_textpage()
        count = text_page.count_chars()
        text = text_page.get_text_range(0, count) if count else ""
        page_height = page.get_height()
        chars: list = []
        for index, char in enumerate(text[:count]):
            if char in BREAKS:
                chars.append((None, None))
                continue
            left, bottom, right, top = text_page.get_charbox(index)
            box = (left * scale, (page_height - top) * scale, right * scale, (page_height - bottom) * scale)
            ink = not char.isspace() and right > left and top > bottom
            chars.append((char, box if ink else None))
        text_page.close()
        page.close()
    finally:
        document.close()
    return image, chars
