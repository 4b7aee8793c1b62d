"""How much a candidate box's ink looks like the query drawn in print: analysis by synthesis for locate.

The query is drawn in reference faces of the kinds documents are set in (sans, serif and monospace; Times-
and Computer Modern-like; regular, bold and italic: matplotlib's DejaVu, STIX and Computer Modern faces,
which ship with it), and each drawing and the box's ink are cut to their ink's bounds, resized to
one small grid (SHAPE_ROWS x SHAPE_COLS), blurred, each row's mean taken out, and compared by their
correlation; the best face's is the box's likeness to the query, in [-1, 1]. The row means are the band
of x-height ink every lowercase word holds: left in, they make any two words of a length look alike. Each
row is then brought to about one energy, so the ascender and descender rows count as much as the x-height
rows, whose strokes any two words share.
Ascenders, descenders, the count and width of the letters survive the change of face and of size; a
word of other letters rarely looks like the query, so the likeness tells a box that holds the query
from one that does not, which a small model's maps do poorly (docs/tokenfd-mini.md).

numpy, scipy and Pillow only (the gateway imports it).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from scipy import ndimage

SHAPE_ROWS, SHAPE_COLS = 24, 96     # the grid both are compared on: about the shape of a printed word
BLUR_SIGMA = 1.5                    # cells: strokes a cell or two apart still overlap
# Each row is divided by the root of its mean square plus this share of all rows' mean square: the x-height rows,
# dense with strokes, would otherwise outweigh the ascender and descender rows that give a word its outline; the
# share added keeps a row of a stray dot from counting as much as a row of letters.
ROW_ENERGY_SHARE = 0.2
RENDER_PX = 64                      # the drawing's font size: large enough that the grid sees every stroke
# More faces find more of the words set in faces like them, but raise every word's best likeness a little too;
# these eleven hit most on the calibration crops, as many as seventeen (docs/tokenfd-mini.md, "The likeness").
REFERENCE_FACES = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "STIXGeneral.ttf", "cmr10.ttf",
                   "DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif-Italic.ttf",
                   "STIXGeneralItalic.ttf", "cmti10.ttf")


@functools.lru_cache(maxsize=1)
def _fonts():
    import matplotlib
    from PIL import ImageFont

    directory = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return tuple(ImageFont.truetype(str(directory / face), RENDER_PX) for face in REFERENCE_FACES)


def descriptor(ink: np.ndarray) -> np.ndarray | None:
    """A boolean ink patch cut to its ink's bounds, resized to the grid, blurred, each row's mean taken out and
    each row brought to about one energy, as a unit vector (SHAPE_ROWS * SHAPE_COLS,); None when the patch holds
    no ink or no row varies."""
    from PIL import Image

    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        return None
    patch = np.asarray(ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1], dtype=np.uint8) * 255
    grid = Image.fromarray(patch).resize((SHAPE_COLS, SHAPE_ROWS), Image.BILINEAR)
    blurred = ndimage.gaussian_filter(np.asarray(grid, dtype=np.float32) / 255.0, BLUR_SIGMA)
    centred = blurred - blurred.mean(axis=1, keepdims=True)
    energy = (centred ** 2).mean(axis=1, keepdims=True)
    if float(energy.mean()) < 1e-12:          # no row varies: a solid block, a single line
        return None
    vector = (centred / np.sqrt(energy + ROW_ENERGY_SHARE * energy.mean())).ravel()
    return vector / float(np.linalg.norm(vector))


@functools.lru_cache(maxsize=256)
def references(text: str) -> np.ndarray:
    """(faces, SHAPE_ROWS * SHAPE_COLS): the text drawn in each reference face, as descriptors (a face that
    draws nothing of it gives a row of zeros)."""
    from PIL import Image, ImageDraw

    rows = []
    for font in _fonts():
        left, top, right, bottom = font.getbbox(text)
        canvas = Image.new("L", (max(1, right - left) + 8, max(1, bottom - top) + 8), 0)
        ImageDraw.Draw(canvas).text((4 - left, 4 - top), text, font=font, fill=255)
        found = descriptor(np.asarray(canvas) > 127)
        rows.append(np.zeros(SHAPE_ROWS * SHAPE_COLS, np.float32) if found is None else found)
    return np.stack(rows)


def likeness(ink: np.ndarray, boxes: np.ndarray, text: str) -> np.ndarray:
    """(N,) each box's likeness to `text`: the best reference face's correlation with the box's ink, in [-1, 1]
    (-1 for a box with no ink). ink: the page's (rows, cols) boolean ink (ink_words.ink_mask); boxes: (N, 4)
    x0, y0, x1, y1 in its pixels."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    drawn = references(text)
    height, width = ink.shape
    out = np.full(len(boxes), -1.0)
    for index, (x0, y0, x1, y1) in enumerate(np.rint(boxes).astype(np.int64)):
        patch = ink[max(0, y0):min(height, y1 + 1), max(0, x0):min(width, x1 + 1)]
        found = descriptor(patch) if patch.size else None
        if found is not None:
            out[index] = float((drawn @ found).max())
    return out
