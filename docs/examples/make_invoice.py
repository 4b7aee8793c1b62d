"""Draw docs/examples/invoice.png, the README's "Locate a word" page: a small invoice on a white A5
page at 110 dpi (640 x 910 pixels), in DejaVu Sans (matplotlib's bundled font), x-height 12-14 px.
It prints where each word's ink was drawn, (x0, y0, x1, y1) in the page's pixels, so an answer of
/v1/text/locate can be checked against it.

    .venv/bin/python docs/examples/make_invoice.py            # writes the page, prints the words' boxes
    .venv/bin/python docs/examples/make_invoice.py --word Total
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent / "invoice.png"
SIZE = (640, 910)
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
INK, GREY = (25, 25, 25), (110, 110, 110)

# (x, y, text, font file, size, colour): one run of words each; columns are their own runs.
RUNS = (
    (48, 48, "Harbor Supplies Ltd", BOLD, 30, INK),
    (48, 92, "12 Quay Street, Bristol", REGULAR, 20, GREY),
    (48, 170, "Invoice", BOLD, 34, INK),
    (48, 240, "Invoice number", REGULAR, 22, GREY), (330, 240, "20417", REGULAR, 22, INK),
    (48, 276, "Date", REGULAR, 22, GREY), (330, 276, "12 March 2024", REGULAR, 22, INK),
    (48, 312, "Customer", REGULAR, 22, GREY), (330, 312, "Northwind Books", REGULAR, 22, INK),
    (48, 400, "Item", BOLD, 22, INK), (360, 400, "Qty", BOLD, 22, INK), (480, 400, "Amount", BOLD, 22, INK),
    (48, 446, "Paper reams", REGULAR, 22, INK), (360, 446, "12", REGULAR, 22, INK),
    (480, 446, "54.00", REGULAR, 22, INK),
    (48, 482, "Printer ink", REGULAR, 22, INK), (360, 482, "3", REGULAR, 22, INK),
    (480, 482, "96.50", REGULAR, 22, INK),
    (48, 518, "Delivery", REGULAR, 22, INK), (360, 518, "1", REGULAR, 22, INK),
    (480, 518, "34.00", REGULAR, 22, INK),
    (48, 584, "Total", BOLD, 24, INK), (480, 584, "184.50", BOLD, 24, INK),
    (48, 680, "Payment is due within 30 days.", REGULAR, 20, GREY),
    (48, 712, "Thank you for your order.", REGULAR, 20, GREY),
)
RULES = ((48, 436, 592), (48, 566, 592))   # (x0, y, x1): the table's lines


def draw() -> tuple[Image.Image, list[dict]]:
    """The page, and each word's ink box."""
    page = Image.new("RGB", SIZE, "white")
    pen = ImageDraw.Draw(page)
    for x0, y, x1 in RULES:
        pen.line((x0, y, x1, y), fill=GREY, width=1)
    words = []
    for x, y, text, font_file, size, colour in RUNS:
        font = ImageFont.truetype(str(FONTS / font_file), size)
        for word in text.split():
            pen.text((x, y), word, font=font, fill=colour)
            mask = Image.new("L", SIZE, 0)
            ImageDraw.Draw(mask).text((x, y), word, font=font, fill=255)
            words.append({"word": word, "box": list(mask.getbbox())})
            x += font.getlength(word + " ")
    return page, words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--word", help="print only this word's boxes")
    args = parser.parse_args(argv)
    page, words = draw()
    page.save(args.out, optimize=True)
    for word in words:
        if args.word is None or word["word"] == args.word:
            print(json.dumps(word))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
