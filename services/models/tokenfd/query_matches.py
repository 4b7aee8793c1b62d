"""Matches of a whole query: where its tokens appear together, in order, along a text line.

TokenFD gives one similarity map per token of the query. A user asks for a word or a
phrase, so the useful answer is the places where the query's tokens stand side by side:
token i+1's region lies just right of token i's, on the same line. Each token's regions
are the connected components of its map above the threshold (`regions`); a match chains
one region per token (`chain`) and is their union, scored by the mean of their peaks.

How a map is read is the model's (`Decoding`, recorded with a checkpoint trained here and
calibrated on held-out pages): upstream's reading, which official checkpoints keep, takes
every cell above the threshold and ranks by peak. A model may instead draw its regions'
extent at a share of its map's own peak (the cells around its strongest place, where a
weaker model's similarity spreads over the whole line), keeping the threshold for what it
decides: whether a region is there at all (its peak above it). It may also rank by mass (a
region's similarity above the cut, summed over its cells: a whole word outweighs one sharp
glyph). Or it may take its matches' boxes from the page's ink (`boxes` = `ink`,
ink_words.py): word boxes of the page, scored by the query's maps and by how well their shape
fits the query's length; that reading needs the page's pixels and the query's pieces.

The one decoder of whole-query matches: the gateway's locate route (through its maps
code) and TokenFD-mini's evaluation (`match_query` on raw maps) both use it.
numpy, scipy and scikit-image only: serving paths import it, and it never imports torch.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .box_geometry import MAX_GAP_LINE_HEIGHTS, MIN_LINE_OVERLAP

# Regions per token that are chained, best first: bounds the search on a noisy map.
MAX_REGIONS_PER_TOKEN = 64
# How regions and matches are ranked: by their peak similarity, or by their mass above the cut.
PEAK = "peak"
MASS = "mass"
RANKINGS = (PEAK, MASS)
# Where a match's box comes from: the chained regions of the token maps, or the page's ink.
MAPS = "maps"
INK = "ink"
BOXES = (MAPS, INK)


# The range of each number a decoding records, low and high included (but peak_share's high: a cut at the
# map's peak keeps no cell); the served schema states the same ranges.
NUMBER_RANGES = {"peak_share": (0.0, 1.0), "aspect": (-5.0, 5.0), "length_weight": (0.0, 10.0),
                 "span_mean": (0.0, 1.0), "letters": (0.0, 10.0), "likeness": (0.0, 10.0)}


@dataclass(frozen=True)
class Decoding:
    """How one model's maps are read, beside its threshold. The defaults are upstream's reading."""

    peak_share: float = 0.0    # regions are the cells above this share of the map's peak (0: above the threshold)
    rank: str = PEAK           # PEAK or MASS: what orders regions and matches
    boxes: str = MAPS          # MAPS or INK: where whole-query matches' boxes come from
    # With INK (ink_words.py): the log of a query box's width per character over its height, how much a
    # match's rank loses per unit of distance from that shape, and the share of each token's span read as
    # its mean (the rest is its peak).
    aspect: float = 0.0
    length_weight: float = 0.0
    span_mean: float = 0.0
    # With INK, for a one-word query: what a candidate's rank gains per unit of its letters' reading (each
    # character's piece's map read in its own letter's share of the box); 0: the query is not spelled.
    letters: float = 0.0
    # With INK: what a candidate's score (and so its rank) gains per unit of its likeness to the query drawn in
    # print (word_shapes.py); 0: the ink is not compared with a drawing.
    likeness: float = 0.0

    def __post_init__(self) -> None:
        if self.rank not in RANKINGS:
            raise ValueError(f"rank must be one of {', '.join(RANKINGS)}, got {self.rank!r}")
        if self.boxes not in BOXES:
            raise ValueError(f"boxes must be one of {', '.join(BOXES)}, got {self.boxes!r}")
        for name, (low, high) in NUMBER_RANGES.items():
            value, open_high = getattr(self, name), name == "peak_share"
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not (low <= value and (value < high if open_high else value <= high)):
                raise ValueError(f"{name} must be a number in [{low:g}, {high:g}{')' if open_high else ']'}, "
                                 f"got {value!r}")

    @property
    def spells(self) -> bool:
        """Whether a one-word query is read letter by letter too (its letters' maps asked for with its own)."""
        return self.boxes == INK and self.letters > 0

    def to_json(self) -> dict:
        return {"peak_share": float(self.peak_share), "rank": self.rank, "boxes": self.boxes,
                "aspect": float(self.aspect), "length_weight": float(self.length_weight),
                "span_mean": float(self.span_mean), "letters": float(self.letters),
                "likeness": float(self.likeness)}

    @classmethod
    def from_json(cls, data: object) -> "Decoding":
        """A recorded decoding; ValueError for anything but an object of these keys with valid values (a
        record written before the ink reading, with 'peak_share' and 'rank' only, reads as the maps'; one written
        before the letters, without 'letters', does not spell; one without 'likeness' draws nothing)."""
        if not isinstance(data, dict) or not set(data) <= set(cls.__dataclass_fields__):
            raise ValueError(f"a decoding is an object with keys among {', '.join(cls.__dataclass_fields__)}, "
                             f"got {data!r}")
        return cls(**data)

    def cut(self, grid: np.ndarray, threshold: float) -> float:
        """The similarity a cell of `grid` must exceed to be part of a region: the threshold, or the share of
        the map's peak (a share of a peak that is not positive would be above it: such a map keeps the
        threshold). Either way a region is kept only when its own peak is above the threshold."""
        peak = float(grid.max())
        return self.peak_share * peak if self.peak_share and peak > 0 else threshold


UPSTREAM = Decoding()


@dataclass(frozen=True)
class Region:
    """One connected region of a token's map above the threshold, in pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float               # the region's peak similarity
    mass: float = 0.0          # its similarity above the cut, summed over its cells

    def rank_value(self, rank: str) -> float:
        return self.mass if rank == MASS else self.score


@dataclass(frozen=True)
class Match:
    """One place where the whole query stands: the union of one region per token, in pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float               # mean of the chained regions' peak similarities
    tokens: tuple[int, ...]    # the query's token indices, in order
    mass: float = 0.0          # mean of their masses

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1, self.y1


def _cell_size(cell_px: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(cell_px, tuple):
        return float(cell_px[0]), float(cell_px[1])
    return float(cell_px), float(cell_px)


def regions(grid: np.ndarray, threshold: float, cell_px: float | tuple[float, float],
            decoding: Decoding = UPSTREAM) -> list[Region]:
    """Connected regions (4-connected) of the cells above the decoding's cut (the threshold, or a
    share of the map's peak) whose peak is above the threshold, best first by the decoding's rank.

    `grid` is one token's (rows, cols) map; `cell_px` the pixels one cell covers, one number
    for square cells or (width, height): a stitched grid resized from an image of any aspect
    has cells of image_width / cols by image_height / rows pixels."""
    if grid.size == 0 or not float(grid.max()) > threshold:   # nothing above it (a NaN peak is not above it)
        return []
    cut = decoding.cut(grid, threshold)
    mask = grid > cut
    width, height = _cell_size(cell_px)
    labels, count = ndimage.label(mask)
    # each region's peak and mass from its own cells only (ndimage.maximum sorts the whole grid)
    label_of = labels[mask] - 1
    peaks = np.full(count, -np.inf)
    np.maximum.at(peaks, label_of, grid[mask].astype(np.float64))
    masses = np.bincount(label_of, weights=(grid - cut)[mask], minlength=count)
    slices = ndimage.find_objects(labels)
    found = [Region(x0=rows_cols[1].start * width, y0=rows_cols[0].start * height,
                    x1=rows_cols[1].stop * width, y1=rows_cols[0].stop * height, score=float(peak),
                    mass=float(mass))
             for rows_cols, peak, mass in zip(slices, peaks, masses, strict=True) if peak > threshold]
    found.sort(key=lambda region: region.rank_value(decoding.rank), reverse=True)
    return found


def follows(previous: Region, following: Region) -> bool:
    """Whether `following` continues `previous` along a text line: same line, to its right, close by."""
    overlap = min(previous.y1, following.y1) - max(previous.y0, following.y0)
    shorter = min(previous.y1 - previous.y0, following.y1 - following.y0)
    if shorter <= 0 or overlap < MIN_LINE_OVERLAP * shorter:
        return False
    if (following.x0 + following.x1) <= (previous.x0 + previous.x1):  # centre not to the right
        return False
    line_height = max(previous.y1 - previous.y0, following.y1 - following.y0)
    return following.x0 - previous.x1 <= MAX_GAP_LINE_HEIGHTS * line_height


def chain(token_regions: Sequence[Sequence[Region]], *, max_matches: int, rank: str = PEAK) -> list[Match]:
    """The best chains of one region per token, in the query's order, best first by `rank`
    (the mean of the chained regions' peaks, or of their masses).

    `token_regions[i]` are token i's regions (pixels, each with its peak and mass). A token
    with no region means no match. Chains share no region: once a chain is taken, the
    weaker ones through any of its regions are dropped. A one-token query's matches are
    its token's best regions.
    """
    if max_matches <= 0 or not token_regions or any(not token for token in token_regions):
        return []
    candidates = [sorted(token, key=lambda region: region.rank_value(rank), reverse=True)[:MAX_REGIONS_PER_TOKEN]
                  for token in token_regions]
    # best[i][k]: the highest rank sum of a chain over tokens 0..i ending at region k of
    # token i, and the region of token i-1 it came from (None: no chain reaches k).
    best: list[list[tuple[float, int | None] | None]] = [[(region.rank_value(rank), None)
                                                          for region in candidates[0]]]
    for index in range(1, len(candidates)):
        row: list[tuple[float, int | None] | None] = []
        for region in candidates[index]:
            reach = [(entry[0] + region.rank_value(rank), k)
                     for k, (entry, previous) in enumerate(zip(best[-1], candidates[index - 1], strict=True))
                     if entry is not None and follows(previous, region)]
            row.append(max(reach) if reach else None)
        best.append(row)

    chains = []
    for last, entry in enumerate(best[-1]):
        if entry is None:
            continue
        path, k = [last], last
        for index in range(len(candidates) - 1, 0, -1):
            k = best[index][k][1]
            path.append(k)
        path.reverse()
        chains.append((entry[0] / len(candidates), path))
    chains.sort(key=lambda scored: scored[0], reverse=True)

    used: set[tuple[int, int]] = set()
    matches = []
    for _, path in chains:
        members = set(enumerate(path))
        if members & used:
            continue
        used |= members
        chained = [candidates[index][k] for index, k in enumerate(path)]
        matches.append(Match(x0=min(r.x0 for r in chained), y0=min(r.y0 for r in chained),
                             x1=max(r.x1 for r in chained), y1=max(r.y1 for r in chained),
                             score=float(np.mean([r.score for r in chained])), tokens=tuple(range(len(path))),
                             mass=float(np.mean([r.mass for r in chained]))))
        if len(matches) == max_matches:
            break
    return matches


def match_query(maps: np.ndarray, threshold: float, cell_px: float | tuple[float, float],
                max_matches: int, decoding: Decoding = UPSTREAM, *, page: np.ndarray | None = None,
                pieces: Sequence[str] | None = None, query: str | None = None, letters=None) -> list[Match]:
    """The whole query's matches in raw similarity maps, best first, boxes in pixels.

    maps: (T, rows, cols), token t's cosine map (any float dtype); threshold: the similarity
    above which cells form regions; cell_px: pixels per cell (one number, or (width, height));
    max_matches: most matches returned (the best one alone: max_matches=1); decoding: how the
    model's maps are read (upstream's unless the model records another). A decoding whose boxes
    come from the ink also needs the page ((rows, cols) grey pixels, from which ink_words.py takes
    its word boxes), the query's pieces and its text, and reads its `letters` (ink_words.Letters) when
    it spells."""
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"expected maps of shape (tokens, rows, cols), got {maps.shape}")
    if decoding.boxes == INK:
        if page is None or pieces is None or query is None:
            raise ValueError("a decoding with boxes from the ink needs the page, the query's pieces and its text")
        from . import ink_words

        page_ink = page if isinstance(page, ink_words.PageInk) else ink_words.PageInk.of(page)
        return ink_match(maps, threshold, _cell_size(cell_px), max_matches, decoding,
                         ink_words.word_boxes(page_ink, _cell_size(cell_px), ink_words.query_words(query)), pieces,
                         query, letters, page_ink.ink)
    return chain([regions(grid, threshold, cell_px, decoding) for grid in maps], max_matches=max_matches,
                 rank=decoding.rank)


def ink_match(maps: np.ndarray, threshold: float, cell_px: tuple[float, float], max_matches: int,
              decoding: Decoding, boxes: np.ndarray, pieces: Sequence[str], query: str,
              letters=None, ink: np.ndarray | None = None) -> list[Match]:
    """Matches of the query among a page's word boxes (ink_words.py), best first. A match's `score` is the
    mean of its tokens' readings in their spans (a cosine similarity, above the threshold); `mass` is what
    ranks it: that score less the decoding's length weight times the box's distance from the query's shape,
    plus its letters' weight times their reading when the decoding spells and `letters` (ink_words.Letters)
    holds the query's. With the decoding's `likeness` and the page's `ink` (ink_words.ink_mask), the score also
    gains that weight times the box's likeness to the query drawn in print (word_shapes.py)."""
    from . import ink_words

    found = ink_words.spot(maps, pieces, query, boxes, threshold, cell_px, aspect=decoding.aspect,
                           length_weight=decoding.length_weight, span_mean=decoding.span_mean,
                           max_matches=max_matches, letters=letters, letter_weight=decoding.letters,
                           ink=ink, likeness_weight=decoding.likeness)
    tokens = tuple(range(np.asarray(maps).shape[0]))
    return [Match(x0=float(box[0]), y0=float(box[1]), x1=float(box[2]), y1=float(box[3]), score=score,
                  tokens=tokens, mass=value) for box, score, value in found]
