"""Page templates: document-like pages drawn on a `Canvas` from a seeded `random.Random`.

Each template lays out one kind of page (an article with headings, multi-column text, a form, an
invoice, a receipt, a table, a slide) in points, choosing fonts by kind (serif, sans, mono) and
weight, sizes from small print to titles, and colours. Text is the corpus's prose and generated
fields. A template stops at the bottom margin; it never draws outside the page.
"""
from __future__ import annotations

import random
from collections.abc import Callable

from . import corpus
from .canvas import LEADING, Canvas, Color, Style

PAGE_SIZES = {"a4": (595.0, 842.0), "letter": (612.0, 792.0), "slide": (720.0, 405.0), "receipt": (226.0, 600.0)}
INKS: tuple[Color, ...] = ((0, 0, 0), (20, 20, 20), (40, 40, 60), (10, 30, 90), (90, 20, 20), (30, 70, 40),
                           (70, 70, 70))
PAPERS: tuple[Color, ...] = ((255, 255, 255), (250, 248, 240), (245, 245, 245), (255, 253, 235), (238, 243, 250))


def ink(rng: random.Random) -> Color:
    return rng.choice(INKS) if rng.random() < 0.85 else tuple(rng.randrange(0, 140) for _ in range(3))


def wrap(canvas: Canvas, text: str, style: Style, width: float) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and canvas.measure(candidate, style) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def paragraph(canvas: Canvas, x: float, y: float, width: float, bottom: float, text: str, style: Style,
              align: str = "left") -> float:
    """Draw wrapped text from y; returns the y below it (stops at `bottom`)."""
    step = style.size * LEADING
    for line in wrap(canvas, text, style, width):
        if y + step > bottom:
            break
        offset = 0.0
        if align == "right":
            offset = width - canvas.measure(line, style)
        elif align == "center":
            offset = (width - canvas.measure(line, style)) / 2
        canvas.text(x + offset, y, line, style)
        y += step
    return y


def _title(rng: random.Random, words: int) -> str:
    vocabulary = corpus.words()
    start = rng.randrange(len(vocabulary) - words)
    return " ".join(w.strip(".,;:()\"'") for w in vocabulary[start:start + words]).strip().capitalize() or "Report"


def _margins(canvas: Canvas, rng: random.Random) -> tuple[float, float, float, float]:
    m = rng.uniform(0.06, 0.12) * canvas.width
    return m, m, canvas.width - m, canvas.height - m


def article(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = _margins(canvas, rng)
    kind = rng.choice(("serif", "sans", "serif", "mono"))
    body = Style(canvas.pick(rng, kind), rng.uniform(7, 13), ink(rng))
    head_kind = rng.choice(("serif", "sans"))
    y = top
    title = Style(canvas.pick(rng, head_kind, bold=rng.random() < 0.7), rng.uniform(16, 30), ink(rng))
    y = paragraph(canvas, left, y, right - left, bottom, _title(rng, rng.randint(2, 6)), title,
                  align=rng.choice(("left", "center"))) + body.size
    while y < bottom - 3 * body.size:
        if rng.random() < 0.3:
            heading = Style(canvas.pick(rng, head_kind, bold=True), body.size * rng.uniform(1.15, 1.6), body.color)
            y = paragraph(canvas, left, y, right - left, bottom, _title(rng, rng.randint(1, 4)), heading)
        y = paragraph(canvas, left, y, right - left, bottom, corpus.sentences(rng, rng.randint(2, 6)), body)
        y += body.size * rng.uniform(0.4, 1.2)


def columns(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = _margins(canvas, rng)
    count = rng.choice((2, 2, 3))
    gap = rng.uniform(12, 28)
    width = (right - left - gap * (count - 1)) / count
    body = Style(canvas.pick(rng, rng.choice(("serif", "sans"))), rng.uniform(6.5, 10.5), ink(rng))
    title = Style(canvas.pick(rng, "sans", bold=True), rng.uniform(14, 26), ink(rng))
    y0 = paragraph(canvas, left, top, right - left, bottom, _title(rng, rng.randint(3, 7)), title) + 8
    for column in range(count):
        x, y = left + column * (width + gap), y0
        while y < bottom - 2 * body.size:
            y = paragraph(canvas, x, y, width, bottom, corpus.sentences(rng, rng.randint(2, 5)), body)
            y += body.size * 0.6


def form(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = _margins(canvas, rng)
    title = Style(canvas.pick(rng, rng.choice(("sans", "serif")), bold=True), rng.uniform(14, 24), ink(rng))
    label_style = Style(canvas.pick(rng, rng.choice(("sans", "serif")), bold=rng.random() < 0.5),
                        rng.uniform(8, 12), ink(rng))
    value_style = Style(canvas.pick(rng, rng.choice(("sans", "serif", "mono"))),
                        label_style.size * rng.uniform(0.9, 1.2), ink(rng))
    y = paragraph(canvas, left, top, right - left, bottom, rng.choice(("Application form", "Registration",
                  "Customer details", "Claim form", "Order form", "Change of address")), title) + 10
    two = rng.random() < 0.5
    cell = (right - left) / (2 if two else 1)
    labels = list(corpus.FORM_LABELS)
    rng.shuffle(labels)
    for index, label in enumerate(labels):
        x = left + (index % 2) * cell if two else left
        if y + 2.6 * label_style.size > bottom:
            break
        canvas.text(x, y, label + ":", label_style)
        lx = x + canvas.measure(label + ": ", label_style) + 4
        if rng.random() < 0.5:
            canvas.rect(lx - 2, y - 2, x + cell - 10, y + value_style.size * LEADING + 1, outline=(120, 120, 120))
        canvas.text(lx, y, corpus.field_value(rng, label), value_style)
        if not two or index % 2:
            y += max(label_style.size, value_style.size) * LEADING * rng.uniform(1.6, 2.4)
    if y < bottom - 40:
        paragraph(canvas, left, y + 10, right - left, bottom, corpus.sentences(rng, 2),
                  Style(label_style.font, label_style.size * 0.8, label_style.color))


def _table(canvas: Canvas, rng: random.Random, x: float, y: float, widths: list[float], header: list[str],
           rows: list[list[str]], style: Style, bottom: float, rules: bool) -> float:
    step = style.size * LEADING * rng.uniform(1.2, 1.6)
    head = Style(style.font, style.size, style.color)
    for row_index, row in enumerate([header] + rows):
        if y + step > bottom:
            break
        if row_index == 0 and rng.random() < 0.5:
            canvas.rect(x, y - 2, x + sum(widths), y + step - 2, fill=(225, 228, 235))
        cx = x
        for col, (cell, width) in enumerate(zip(row, widths, strict=True)):
            text = cell
            while text and canvas.measure(text, head) > width - 6:
                text = text[:-1]
            right_align = col > 0 and any(ch.isdigit() for ch in text)
            offset = width - 4 - canvas.measure(text, head) if right_align else 2
            canvas.text(cx + offset, y, text, head)
            cx += width
        y += step
        if rules:
            canvas.rect(x, y - 3, x + sum(widths), y - 3 + 0.6, fill=(150, 150, 150))
    return y


def invoice(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = _margins(canvas, rng)
    kind = rng.choice(("sans", "serif"))
    body = Style(canvas.pick(rng, kind), rng.uniform(8, 11), ink(rng))
    company = rng.choice(corpus.COMPANIES)
    canvas.text(left, top, company, Style(canvas.pick(rng, kind, bold=True), rng.uniform(14, 22), ink(rng)))
    y = top + 34
    for line in (corpus.address(rng), corpus.phone(rng), corpus.email(rng)):
        canvas.text(left, y, line, body)
        y += body.size * LEADING
    head = Style(canvas.pick(rng, kind, bold=True), rng.uniform(16, 26), ink(rng))
    canvas.text(right - canvas.measure("INVOICE", head), top, rng.choice(("INVOICE", "Invoice")), head)
    y += 10
    for label in ("Invoice No.", "Date", "Due date", "Customer ID"):
        canvas.text(left, y, f"{label} {corpus.field_value(rng, label)}", body)
        y += body.size * LEADING
    y += 12
    width = right - left
    widths = [width * 0.5, width * 0.12, width * 0.18, width * 0.2]
    rows = [[rng.choice(corpus.ITEMS), str(rng.randint(1, 20)), corpus.amount(rng), corpus.amount(rng)]
            for _ in range(rng.randint(3, 12))]
    y = _table(canvas, rng, left, y, widths, ["Description", "Qty", "Unit price", "Amount"], rows, body, bottom,
               rules=rng.random() < 0.7)
    for label in ("Subtotal", "Tax", "Total"):
        if y + body.size * 2 > bottom:
            break
        value = corpus.amount(rng)
        canvas.text(right - 160, y, label, body)
        canvas.text(right - canvas.measure(value, body) - 4, y, value, body)
        y += body.size * LEADING * 1.3
    if y < bottom - 30:
        paragraph(canvas, left, y + 12, width, bottom, "Payment terms: " + corpus.sentences(rng, 1), body)


def receipt(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = 10.0, 14.0, canvas.width - 10, canvas.height - 10
    style = Style(canvas.pick(rng, rng.choice(("mono", "mono", "sans"))), rng.uniform(7, 10), ink(rng))
    y = paragraph(canvas, left, top, right - left, bottom, rng.choice(corpus.COMPANIES),
                  Style(style.font, style.size * 1.4, style.color), align="center")
    y = paragraph(canvas, left, y, right - left, bottom, corpus.address(rng), style, align="center") + 6
    canvas.text(left, y, corpus.date(rng), style)
    y += style.size * LEADING * 1.5
    for _ in range(rng.randint(4, 16)):
        if y + style.size * 6 > bottom:
            break
        item, price = rng.choice(corpus.ITEMS), corpus.amount(rng)
        canvas.text(left, y, item, style)
        canvas.text(right - canvas.measure(price, style), y, price, style)
        y += style.size * LEADING
    canvas.rect(left, y + 2, right, y + 2.6, fill=style.color)
    y += 8
    for label in ("Total", "Cash", "Change"):
        value = corpus.amount(rng)
        canvas.text(left, y, label.upper() if rng.random() < 0.5 else label, style)
        canvas.text(right - canvas.measure(value, style), y, value, style)
        y += style.size * LEADING
    paragraph(canvas, left, y + 8, right - left, bottom, "Thank you for your visit", style, align="center")


def table(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = _margins(canvas, rng)
    style = Style(canvas.pick(rng, rng.choice(("sans", "serif", "mono"))), rng.uniform(7, 11), ink(rng))
    y = paragraph(canvas, left, top, right - left, bottom, "Table " + str(rng.randint(1, 12)) + ". " +
                  _title(rng, rng.randint(3, 7)), Style(style.font, style.size * 1.3, style.color)) + 6
    columns_count = rng.randint(3, 6)
    widths = [(right - left) / columns_count] * columns_count
    vocabulary = corpus.words()
    header = [rng.choice(vocabulary).strip(".,;:()").capitalize()[:12] for _ in range(columns_count)]
    rows = []
    for _ in range(rng.randint(6, 30)):
        rows.append([rng.choice(vocabulary).strip(".,;:()")[:14]] +
                    [rng.choice((corpus.amount(rng), str(rng.randint(0, 9999)), f"{rng.uniform(0, 100):.1f}%",
                                 corpus.code(rng))) for _ in range(columns_count - 1)])
    y = _table(canvas, rng, left, y, widths, header, rows, style, bottom, rules=rng.random() < 0.6)
    if y < bottom - 40:
        paragraph(canvas, left, y + 10, right - left, bottom, corpus.sentences(rng, 3), style)


def slide(canvas: Canvas, rng: random.Random) -> None:
    left, top, right, bottom = 40.0, 30.0, canvas.width - 40, canvas.height - 24
    dark = rng.random() < 0.3
    if dark:
        canvas.rect(0, 0, canvas.width, canvas.height, fill=(rng.randrange(10, 60), rng.randrange(20, 70),
                                                              rng.randrange(40, 110)))
    color = (245, 245, 245) if dark else ink(rng)
    kind = rng.choice(("sans", "sans", "serif"))
    y = paragraph(canvas, left, top, right - left, bottom, _title(rng, rng.randint(2, 6)),
                  Style(canvas.pick(rng, kind, bold=True), rng.uniform(22, 36), color)) + 10
    body = Style(canvas.pick(rng, kind), rng.uniform(13, 20), color)
    for _ in range(rng.randint(2, 6)):
        if y + body.size * 2 > bottom:
            break
        canvas.text(left, y, "-", body)
        y = paragraph(canvas, left + body.size, y, right - left - body.size, bottom,
                      corpus.sentences(rng, 1)[:rng.randint(30, 110)], body) + body.size * 0.4


TEMPLATES: dict[str, tuple[str, Callable[[Canvas, random.Random], None]]] = {
    # name -> (page size, template)
    "article": ("a4", article), "columns": ("a4", columns), "form": ("letter", form),
    "invoice": ("a4", invoice), "receipt": ("receipt", receipt), "table": ("letter", table),
    "slide": ("slide", slide),
}
