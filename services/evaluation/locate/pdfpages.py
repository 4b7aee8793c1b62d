"""Text-layer PDF pages for the locate evaluation, typeset with reportlab (not the training renderers).

TokenFD-mini trains on pages drawn with PIL and typeset with fpdf2 (services/datasets/tokenit).
These pages come from another tool, reportlab's platypus (its paragraph line breaking, justification
and font handling), with prose the engine never trains on (prose.py), so they test what a user's
PDF looks like rather than the training distribution:

- A4, one page: a title (16-26 pt), sometimes a byline, sections with headings, paragraphs in one
  or two columns at 8-12 pt (justified or ragged), and a footnote in small print (6.5-8 pt);
- a body family per page among Times, Helvetica and Courier (the PDF base-14 fonts, drawn by
  pdfium's own faces) and DejaVu Serif, DejaVu Sans and STIX General (TrueType, embedded; they ship
  with matplotlib, so every machine has them); headings in the family's bold or in another family;
- rendered at 110 dpi by pypdfium2, as the gateway renders an uploaded PDF.

Ground truth is the PDF's own text layer read with pypdfium2: each character's box, grouped into
words as the data engine groups them (services/datasets/tokenit/tokens.words_from_chars). Page i is
a pure function of (seed, i). The output is a corpus directory like the engine's:
``pages.jsonl`` (one record per page: name, image, pdf, width, height, dpi, fonts, words with
boxes), ``images/*.png`` and ``pdfs/*.pdf``, staged and moved into place when all pages are done.

    python -m services.evaluation.locate pdf-pages --out DIR [--count N] [--seed S]
"""
from __future__ import annotations

import functools
import io
import random
from dataclasses import dataclass
from pathlib import Path

from services.evaluation.shards import Shard
from services.evaluation.staging import StagedJsonl

from . import prose

DPI = 110
PAGE_SIZE = (595.2756, 841.8898)          # A4 in points
STEM = "pages"
DEFAULT_COUNT = 30
DEFAULT_SEED = 7


@dataclass(frozen=True)
class Family:
    name: str
    regular: str
    bold: str
    italic: str
    files: tuple[tuple[str, str], ...] = ()   # (registered name, file under matplotlib's ttf folder)


FAMILIES = (
    Family("Times", "Times-Roman", "Times-Bold", "Times-Italic"),
    Family("Helvetica", "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"),
    Family("Courier", "Courier", "Courier-Bold", "Courier-Oblique"),
    Family("DejaVu Serif", "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic",
           (("DejaVuSerif", "DejaVuSerif.ttf"), ("DejaVuSerif-Bold", "DejaVuSerif-Bold.ttf"),
            ("DejaVuSerif-Italic", "DejaVuSerif-Italic.ttf"))),
    Family("DejaVu Sans", "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique",
           (("DejaVuSans", "DejaVuSans.ttf"), ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf"),
            ("DejaVuSans-Oblique", "DejaVuSans-Oblique.ttf"))),
    Family("STIX General", "STIXGeneral", "STIXGeneral-Bold", "STIXGeneral-Italic",
           (("STIXGeneral", "STIXGeneral.ttf"), ("STIXGeneral-Bold", "STIXGeneralBol.ttf"),
            ("STIXGeneral-Italic", "STIXGeneralItalic.ttf"))),
)
_NO_PADDING = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0, "showBoundary": 0}
INKS = ((0, 0, 0), (0, 0, 0), (0, 0, 0), (40, 40, 40), (20, 30, 90), (90, 20, 20))


@functools.lru_cache(maxsize=1)
def _register_fonts() -> None:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for family in FAMILIES:
        for name, file in family.files:
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))


def page_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"eval-locate/pdf/{seed}/{index}")


def _run_of_paragraphs(rng: random.Random, words: int) -> list[str]:
    """Consecutive paragraphs of the prose from a random start, about `words` words in all."""
    paragraphs = prose.paragraphs()
    index, run, total = rng.randrange(len(paragraphs)), [], 0
    while total < words:
        run.append(paragraphs[index % len(paragraphs)])
        total += len(run[-1].split())
        index += 1
    return run


def _title(rng: random.Random) -> str:
    words = [w.strip(".,;:()\"'") for w in rng.choice(prose.paragraphs()).split()]
    words = [w for w in words if w]
    start = rng.randrange(max(1, len(words) - 6))
    return " ".join(w[:1].upper() + w[1:] for w in words[start:start + rng.randint(3, 6)])


def _escape(text: str) -> str:
    """Paragraph() reads a little markup: the text's own <, > and & are characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def typeset(seed: int, index: int) -> tuple[bytes, list[str]]:
    """One seeded page as PDF bytes (invariant: no dates or ids that change between runs), and
    the font names it uses."""
    from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen import canvas as pdf_canvas
    from reportlab.platypus import Frame, Paragraph, Spacer

    _register_fonts()
    rng = page_rng(seed, index)
    body_family = rng.choice(FAMILIES)
    head_family = body_family if rng.random() < 0.6 else rng.choice(FAMILIES)
    size = round(rng.uniform(8.0, 12.0), 1)
    ink = rng.choice(INKS)
    from reportlab.lib.colors import Color

    color = Color(*(c / 255 for c in ink))
    body = ParagraphStyle("body", fontName=body_family.regular, fontSize=size,
                          leading=round(size * rng.uniform(1.15, 1.4), 1), textColor=color,
                          alignment=TA_JUSTIFY if rng.random() < 0.6 else TA_LEFT, spaceAfter=size * 0.6)
    head_size = round(size * rng.uniform(1.15, 1.5), 1)
    heading = ParagraphStyle("heading", fontName=head_family.bold, fontSize=head_size, leading=head_size * 1.25,
                             textColor=color, spaceBefore=size * 0.5, spaceAfter=size * 0.4)
    title_size = round(rng.uniform(16, 26), 1)
    title = ParagraphStyle("title", fontName=head_family.bold, fontSize=title_size, leading=title_size * 1.2,
                           textColor=color, spaceAfter=title_size * 0.5)
    small = round(rng.uniform(6.5, 8.0), 1)
    footnote = ParagraphStyle("footnote", fontName=body_family.regular, fontSize=small, leading=small * 1.25,
                              textColor=color)
    byline = ParagraphStyle("byline", fontName=body_family.italic, fontSize=max(small, size - 1.5),
                            leading=size * 1.3, textColor=color, spaceAfter=size)

    story = [Paragraph(_escape(_title(rng)), title)]
    fonts = {body_family.regular, head_family.bold}
    if rng.random() < 0.5:
        story.append(Paragraph(_escape(f"Section {rng.randint(1, 12)}.{rng.randint(1, 9)}: {_title(rng)}"), byline))
        fonts.add(body_family.italic)
    for number, text in enumerate(_run_of_paragraphs(rng, 900)):
        if number and rng.random() < 0.3:
            story.append(Paragraph(_escape(f"{rng.randint(1, 9)}.{rng.randint(1, 9)} {_title(rng)}"), heading))
        story.append(Paragraph(_escape(text), body))

    width, height = PAGE_SIZE
    margin = rng.uniform(50, 80)
    note = Paragraph(_escape("1. " + " ".join(_run_of_paragraphs(rng, 40)[0].split()[:45])), footnote)
    _, note_height = note.wrap(width - 2 * margin, height)
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=PAGE_SIZE, invariant=1, pageCompression=1)
    bottom = margin + note_height + small * 2
    Frame(margin, margin, width - 2 * margin, note_height + 4, **_NO_PADDING).addFromList([note], canvas)
    columns = 2 if rng.random() < 0.35 else 1
    gutter = 18.0
    column_width = (width - 2 * margin - gutter * (columns - 1)) / columns
    story.insert(1, Spacer(1, 2))
    for column in range(columns):
        frame = Frame(margin + column * (column_width + gutter), bottom, column_width, height - margin - bottom,
                      **_NO_PADDING)
        frame.addFromList(story, canvas)   # takes what fits off the front of the story
        if not story:
            break
    canvas.showPage()
    canvas.save()
    return buffer.getvalue(), sorted(fonts)


def read_page(pdf: bytes, dpi: float = DPI):
    """The first page rendered at `dpi` (a PIL image) and its words from the text layer, in image
    pixels: [{"text", "box": [x0, y0, x1, y1]}] in the text layer's order."""
    from services.datasets.tokenit.pdf import read_first_page
    from services.datasets.tokenit.tokens import words_from_chars

    image, chars = read_first_page(pdf, dpi)
    words = [{"text": word.text, "box": [round(v, 1) for v in word.box]} for word in words_from_chars(chars)]
    return image, words


def write_pages(out: str | Path, *, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED,
                progress: bool = True) -> Path:
    """Typeset, render and read back `count` pages into `out` (staged: all or nothing)."""
    from tqdm import tqdm

    staged = StagedJsonl(Path(out), STEM, Shard(0, 1), ("images", "pdfs"))
    try:
        for index in tqdm(range(count), desc="pdf pages", unit="page", disable=not progress):
            pdf, fonts = typeset(seed, index)
            image, words = read_page(pdf)
            name = f"locate-pdf-{seed}-{index:04d}"
            staged.file("pdfs", f"{name}.pdf").write_bytes(pdf)
            image.save(staged.file("images", f"{name}.png"), format="PNG", optimize=False, compress_level=6)
            staged.write_line({"index": index, "name": name, "image": f"images/{name}.png",
                               "pdf": f"pdfs/{name}.pdf", "width": image.width, "height": image.height,
                               "dpi": DPI, "renderer": "reportlab", "fonts": fonts, "words": words})
        return staged.commit()
    except BaseException:
        staged.discard()
        raise
