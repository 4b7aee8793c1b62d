"""Whole-query matches read from the page's ink: word boxes scored by the query's token maps.

A small model's maps say roughly where a token is drawn, but their regions blur over a word's
neighbours and cover parts of words, so a box chained from them often misses the word it found
(docs/tokenfd-mini.md). The page itself says exactly where words are: dark strokes on paper,
separated by spaces. So this reading takes its candidates from the ink and asks the maps only
which candidate holds the query:

- **candidates** (`word_boxes`): the connected components of the page's ink after closing the
  gaps between glyphs at several widths (in feature cells, so they follow the page's scale): the
  narrowest keep words apart, the widest join a line's words into phrases;
- **evidence** (`span_readings`): a candidate is split along its width into one span per query token,
  in proportion to the token's characters, and each token's map is read in its own span (its
  peak, mixed with its mean by `Decoding.span_mean`); the mean over tokens is the match's score,
  a cosine similarity like a region's peak, and a candidate is kept when it is above the threshold;
- **ranking**: the score less `Decoding.length_weight` times how far the candidate's shape is
  from a box that holds the query's characters (|log(width / (height * characters)) - aspect|,
  `Decoding.aspect` calibrated on held-out pages), so a word of the wrong length loses; for a
  one-word query spelled letter by letter (`Letters`: each character's own piece's map, asked for
  with the query's), plus `Decoding.letters` times the letters' reading, each letter read in its
  own share of the candidate: a small model's map of one word-piece likes many words alike, and
  their letters tell them apart.
- **likeness** (word_shapes.py, `Decoding.likeness`): the candidates the maps rank highest are compared with
  the query drawn in print, and a candidate's score gains that weight times its likeness: a small model's
  maps tell where a word is better than whether it is there, and the page's shapes say more.

numpy, scipy and scikit-image only: the gateway imports it, and it never imports torch.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .box_geometry import MAX_GAP_LINE_HEIGHTS, MIN_LINE_OVERLAP, iou

# Widths (feature cells) at which the gaps between glyphs are closed: from inside a word to
# between the words of a phrase in large print. Each gives its own candidates.
CLOSING_CELLS = (0.6, 0.9, 1.4, 2.3, 3.4, 5.0)
# A candidate's height in cells: at least a small glyph's, at most a title line's.
MIN_HEIGHT_CELLS, MAX_HEIGHT_CELLS = 1.1, 34.0
MIN_WIDTH_CELLS = 0.85
# Candidates are ranked only when their shape is within this many (natural-log) units of a box
# holding the query's characters: a bound on the work per request, far outside what wins.
MAX_SHAPE_ERROR = 1.5
# Candidates compared with the query drawn in print (word_shapes.py): the best by their tokens' span peaks.
# A bound on the work per request; on the calibration crops it hits as many words as comparing every candidate
# (docs/tokenfd-mini.md, "The likeness").
LIKENESS_CANDIDATES = 192
# A weaker candidate overlapping a better one by at least this IoU is the same place.
SAME_PLACE_IOU = 0.5
# The piece marker of sentencepiece tokenizers: a word-initial space, drawn as nothing.
_SPACE_MARK = "\u2581"


def grey_page(data: bytes, *, max_pixels: int | None = None) -> np.ndarray:
    """The page's (rows, cols) grey pixels, decoded as the locate pipeline decodes it (the same geometry as the
    maps' image size)."""
    from services.common.images import decode_image

    return grey(decode_image(data, max_pixels=max_pixels))


def grey(image) -> np.ndarray:
    """A PIL image's (rows, cols) grey pixels, 0-255, as PIL's "L" reads them: what the ink is found in."""
    return np.asarray(image.convert("L"), dtype=np.float32)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """The page's ink: pixels on the far side of Otsu's threshold from the page's median (dark text on
    light paper, or light text on a dark slide). A page of one shade has none."""
    from skimage.filters import threshold_otsu

    grey = np.asarray(grey, dtype=np.float32)
    if grey.size == 0 or float(grey.max() - grey.min()) < 1e-6:
        return np.zeros(grey.shape, dtype=bool)
    threshold = threshold_otsu(grey)
    return grey < threshold if float(np.median(grey)) > threshold else grey > threshold


@dataclass(frozen=True)
class PageInk:
    """What the candidates of any query at any scale start from: the page's ink and its row gaps. They need
    only the page, so a server can find them while the model reads the page."""

    ink: np.ndarray       # (rows, cols) bool: ink_mask
    gaps: np.ndarray      # (rows, cols): row_gaps of the ink

    @classmethod
    def of(cls, grey: np.ndarray) -> "PageInk":
        ink = ink_mask(grey)
        return cls(ink, row_gaps(ink))

    @classmethod
    def read(cls, data: bytes, *, max_pixels: int | None = None) -> "PageInk":
        """The ink of an encoded image (`grey_page`)."""
        return cls.of(grey_page(data, max_pixels=max_pixels))


def word_boxes(page: np.ndarray | PageInk, cell_px: tuple[float, float], words: int = 1) -> np.ndarray:
    """(N, 4) candidate boxes (x0, y0, x1, y1) in pixels, without duplicates, for a page (its (rows, cols) grey
    pixels, or its PageInk) whose feature cells are `cell_px` = (width, height) pixels. For a query of several
    words, also the runs of that many neighbours along a line (`runs`) at each closing width: a width that joins
    a phrase's words joins the rest of its line too, so a phrase inside a line is found only as a run of its
    words."""
    page = page if isinstance(page, PageInk) else PageInk.of(page)
    ink, gaps = page.ink, page.gaps
    cell_w, cell_h = float(cell_px[0]), float(cell_px[1])
    found: set[tuple[int, int, int, int]] = set()
    for cells in CLOSING_CELLS:
        labels, _ = ndimage.label(closed(ink, gaps, max(1, int(round(cells * cell_w)))))
        components = [(cols.start, rows.start, cols.stop, rows.stop) for rows, cols in ndimage.find_objects(labels)
                      if MIN_HEIGHT_CELLS <= (rows.stop - rows.start) / cell_h <= MAX_HEIGHT_CELLS
                      and (cols.stop - cols.start) / cell_w >= MIN_WIDTH_CELLS]
        found.update(components)
        if words > 1:
            found.update(runs(np.array(components, dtype=np.float64).reshape(-1, 4), words))
    return np.array(sorted(found), dtype=np.float64).reshape(-1, 4)


def row_gaps(ink: np.ndarray) -> np.ndarray:
    """Each pixel's run of paper along its row, in pixels, where ink bounds it on both sides (else more than the
    row's width): what a horizontal closing of any width fills, found once for all widths."""
    rows, cols = ink.shape
    columns = np.broadcast_to(np.arange(cols), (rows, cols))
    before = np.maximum.accumulate(np.where(ink, columns, -1), axis=1)
    after = np.minimum.accumulate(np.where(ink, columns, cols)[:, ::-1], axis=1)[:, ::-1]
    return np.where((before >= 0) & (after < cols), after - before - 1, cols + 1)


def closed(ink: np.ndarray, gaps: np.ndarray, width: int) -> np.ndarray:
    """scipy.ndimage.binary_closing of `ink` by a 1 x `width` segment, exactly (a test compares them), at a cost
    that does not grow with the width: the gaps shorter than it filled, and the columns its erosion would read
    past the border cleared (scipy's border_value=0)."""
    out = ink | (gaps <= width - 1)
    reach_left, reach_right = width // 2, width - 1 - width // 2
    out[:, :reach_left] = False
    if reach_right:
        out[:, ink.shape[1] - reach_right:] = False
    return out


def runs(boxes: np.ndarray, length: int) -> list[tuple[int, int, int, int]]:
    """The union boxes of `length` boxes that follow each other along a line: each next one is the nearest to
    the right whose height overlaps at least half the shorter one's, at most a line height away."""
    if len(boxes) < length:
        return []
    order = np.argsort(boxes[:, 0], kind="stable")
    starts = boxes[order, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    low = np.searchsorted(starts, boxes[:, 2], side="left")
    high = np.searchsorted(starts, boxes[:, 2] + MAX_GAP_LINE_HEIGHTS * heights, side="right")
    following = np.full(len(boxes), -1)
    pending = np.ones(len(boxes), dtype=bool)
    for offset in range(int((high - low).max(initial=0))):     # each box's candidates, nearest first
        index = np.flatnonzero(pending & (low + offset < high))
        if not len(index):
            break
        other = order[low[index] + offset]
        overlap = np.minimum(boxes[index, 3], boxes[other, 3]) - np.maximum(boxes[index, 1], boxes[other, 1])
        found = (other != index) & (overlap >= MIN_LINE_OVERLAP * np.minimum(heights[index], heights[other]))
        following[index[found]] = other[found]
        pending[index[found]] = False
    last, union, whole = np.arange(len(boxes)), boxes.copy(), np.ones(len(boxes), dtype=bool)
    for _ in range(length - 1):
        last = following[last]
        whole &= last >= 0
        last = np.where(whole, last, 0)
        union[:, :2] = np.minimum(union[:, :2], boxes[last, :2])
        union[:, 2:] = np.maximum(union[:, 2:], boxes[last, 2:])
    return [tuple(int(v) for v in box) for box in union[whole]]


def query_words(query: str) -> int:
    """How many words a query's candidates hold: its runs of non-space characters (at least one)."""
    return max(1, len(query.split()))


def token_spans(pieces: Sequence[str]) -> np.ndarray:
    """(T + 1,) edges in [0, 1] of each token's share of a word's width, by its drawn characters."""
    lengths = np.array([max(1, len(piece.replace(_SPACE_MARK, ""))) for piece in pieces], dtype=np.float64)
    return np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum()


def span_cells(boxes: np.ndarray, spans: np.ndarray, cell_px: tuple[float, float], rows: int,
               cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cells each token's span of each box covers: rows r0:r1, (N,) each, and columns c0:c1, (N, T) each;
    at least one cell, inside the grid."""
    cell_w, cell_h = float(cell_px[0]), float(cell_px[1])
    r0 = np.minimum(rows - 1, np.floor(boxes[:, 1] / cell_h)).astype(np.int64)
    r1 = np.maximum(r0 + 1, np.minimum(rows, np.ceil(boxes[:, 3] / cell_h))).astype(np.int64)
    width = (boxes[:, 2] - boxes[:, 0])[:, None]
    left = boxes[:, :1] + spans[None, :-1] * width
    right = boxes[:, :1] + spans[None, 1:] * width
    c0 = np.minimum(cols - 1, np.floor(left / cell_w)).astype(np.int64)
    c1 = np.maximum(c0 + 1, np.minimum(cols, np.ceil(right / cell_w))).astype(np.int64)
    return r0, r1, c0, c1


def span_readings(maps: np.ndarray, boxes: np.ndarray, spans: np.ndarray,
                  cell_px: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(peaks, means), each (N,): for each box, the mean over tokens of each token's map peak, and of its
    mean, in the token's span of the box (`span_cells`).

    Vectorised, because a page has thousands of candidates: means from each map's summed-area table, peaks
    from a sparse table of running maxima along each row (the max of two overlapping power-of-two runs),
    then the max over the span's rows."""
    tokens, rows, cols = maps.shape
    if len(boxes) == 0:
        return np.zeros(0), np.zeros(0)
    r0, r1, c0, c1 = span_cells(boxes, spans, cell_px, rows, cols)
    token = np.arange(tokens)[None, :]
    table = np.zeros((tokens, rows + 1, cols + 1))
    table[:, 1:, 1:] = maps.astype(np.float64).cumsum(axis=1).cumsum(axis=2)
    top, bottom = r0[:, None], r1[:, None]
    sums = table[token, bottom, c1] - table[token, top, c1] - table[token, bottom, c0] + table[token, top, c0]
    means = sums / ((bottom - top) * (c1 - c0))

    runs = [maps]                                # runs[k][t, r, c]: max of cells c .. c + 2**k - 1 of row r
    while 2 ** len(runs) <= cols:
        half = 2 ** (len(runs) - 1)
        runs.append(np.maximum(runs[-1][:, :, :-half], runs[-1][:, :, half:]))
    length = c1 - c0
    level = np.floor(np.log2(length)).astype(np.int64)
    height = int((r1 - r0).max())
    row = np.minimum(r0[:, None] + np.arange(height)[None, :], (r1 - 1)[:, None])    # repeats the last row
    peaks = np.empty((len(boxes), tokens))
    for k in np.unique(level):
        box, tok = np.nonzero(level == k)
        run = runs[k]
        rr = row[box]                                                              # (M, height)
        first = run[tok[:, None], rr, c0[box, tok][:, None]]
        last = run[tok[:, None], rr, (c1[box, tok] - 2 ** k)[:, None]]
        peaks[box, tok] = np.maximum(first, last).max(axis=1)
    return peaks.mean(axis=1), means.mean(axis=1)


def log_shape(boxes: np.ndarray, characters: int) -> np.ndarray:
    """log(width / (height * characters)) of each box: a box holding the query sits near its font's aspect."""
    ratio = (boxes[:, 2] - boxes[:, 0]) / np.maximum(boxes[:, 3] - boxes[:, 1], 1e-9) / max(1, characters)
    return np.log(np.maximum(ratio, 1e-9))


@dataclass(frozen=True)
class Letters:
    """A one-word query read letter by letter: each character's piece's map (tokenizer.spell)."""

    maps: np.ndarray        # (C, rows, cols) cosine maps, one per character
    pieces: Sequence[str]   # the C pieces


@dataclass(frozen=True)
class Readings:
    """A query's readings of a page's candidate boxes: what ranking them needs, whatever the decoding's numbers."""

    boxes: np.ndarray     # (N, 4) the candidates read
    shapes: np.ndarray    # (N,) log_shape of each for the query
    peaks: np.ndarray     # (N,) span_readings' peaks
    means: np.ndarray     # (N,) and means
    letter_peaks: np.ndarray | None = None    # (N,) the same of its letters' maps, each in its own letter's
    letter_means: np.ndarray | None = None    # span; None when the query was not read letter by letter
    likeness: np.ndarray | None = None        # (N,) word_shapes.likeness to the query; None when not compared


def read(maps: np.ndarray, pieces: Sequence[str], query: str, boxes: np.ndarray, cell_px: tuple[float, float],
         shapes_within: tuple[float, float], letters: Letters | None = None,
         ink: np.ndarray | None = None) -> Readings:
    """The query's readings of the boxes whose log shape lies within `shapes_within` (low, high).

    maps: (T, rows, cols) cosine maps of the query's T tokens; pieces: their T pieces; query: its text (its
    characters, spaces included, set the shape a box should have); boxes: `word_boxes` of the page; letters:
    the query's letters' maps, read too when given; ink: the page's ink (ink_mask), compared with the query
    drawn in print when given (word_shapes.py)."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape[0] == 0 or len(pieces) != maps.shape[0]:
        raise ValueError(f"{maps.shape[0]} maps for {len(pieces)} pieces")
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    shapes = log_shape(boxes, len(query))
    near = (shapes >= shapes_within[0]) & (shapes <= shapes_within[1])
    kept = boxes[near]
    peaks, means = span_readings(maps, kept, token_spans(pieces), cell_px)
    likeness = None
    if ink is not None:
        from . import word_shapes

        # only the boxes the maps rank highest are compared with the drawing: it bounds the cost per request,
        # and the maps, not the drawing, say which words are worth a look
        likeness = np.full(len(peaks), -1.0)
        looked = np.argsort(-peaks, kind="stable")[:LIKENESS_CANDIDATES]
        likeness[looked] = word_shapes.likeness(ink, kept[looked], query)
    if letters is None or len(letters.pieces) == 0:
        return Readings(kept, shapes[near], peaks, means, likeness=likeness)
    letter_maps = np.asarray(letters.maps, dtype=np.float32)
    if letter_maps.shape[0] != len(letters.pieces):
        raise ValueError(f"{letter_maps.shape[0]} letter maps for {len(letters.pieces)} letters")
    letter_peaks, letter_means = span_readings(letter_maps, kept, token_spans(letters.pieces), cell_px)
    return Readings(kept, shapes[near], peaks, means, letter_peaks, letter_means, likeness)


def ranked(readings: Readings, threshold: float, *, aspect: float, length_weight: float, span_mean: float,
           letter_weight: float = 0.0, likeness_weight: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, scores, values): the candidates whose score is above the threshold and whose shape is within
    MAX_SHAPE_ERROR of the aspect, as indices into `readings` best first by value, with every candidate's score
    (its tokens' span readings) and value (the score less length_weight times its shape's distance, plus
    `letter_weight` times its letters' reading, mixed as the tokens' are, when the query was read letter by
    letter). When the readings hold the likeness, the score gains `likeness_weight` times it."""
    scores = (1.0 - span_mean) * readings.peaks + span_mean * readings.means
    if likeness_weight and readings.likeness is not None:
        scores = scores + likeness_weight * readings.likeness
    errors = np.abs(readings.shapes - aspect)
    values = scores - length_weight * errors
    if letter_weight and readings.letter_peaks is not None:
        values = values + letter_weight * ((1.0 - span_mean) * readings.letter_peaks
                                           + span_mean * readings.letter_means)
    kept = np.flatnonzero((scores > threshold) & (errors <= MAX_SHAPE_ERROR))
    return kept[np.argsort(-values[kept], kind="stable")], scores, values


def spot(maps: np.ndarray, pieces: Sequence[str], query: str, boxes: np.ndarray, threshold: float,
         cell_px: tuple[float, float], *, aspect: float, length_weight: float, span_mean: float,
         max_matches: int, letters: Letters | None = None, letter_weight: float = 0.0,
         ink: np.ndarray | None = None, likeness_weight: float = 0.0) -> list[tuple[np.ndarray, float, float]]:
    """The best candidates for the query, best first: (box, score, value), at most `max_matches`, none whose
    score is not above the threshold, none overlapping a better one (IoU >= SAME_PLACE_IOU). The arguments
    are `read`'s and `ranked`'s."""
    if max_matches <= 0 or len(boxes) == 0:
        return []
    readings = read(maps, pieces, query, boxes, cell_px, (aspect - MAX_SHAPE_ERROR, aspect + MAX_SHAPE_ERROR),
                    letters if letter_weight else None, ink if likeness_weight else None)
    order, scores, values = ranked(readings, threshold, aspect=aspect, length_weight=length_weight,
                                   span_mean=span_mean, letter_weight=letter_weight, likeness_weight=likeness_weight)
    chosen: list[tuple[np.ndarray, float, float]] = []
    for index in order:
        box = readings.boxes[index]
        if any(iou(tuple(box), tuple(taken)) >= SAME_PLACE_IOU for taken, _, _ in chosen):
            continue
        chosen.append((box, float(scores[index]), float(values[index])))
        if len(chosen) == max_matches:
            break
    return chosen
