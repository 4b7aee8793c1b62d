"""A word query's box from its per-token cosine maps, by following its tokens along the text line.

A word of several pieces is several maps; thresholding each alone finds each piece wherever it
occurs (a two-letter piece is everywhere). Decoding keeps only the places where every piece of the
query fires within reach of the others on the same line, then takes the connected component
with the highest mean peak. The issue's trial measured +8 points of hit@0.5 from this alone.
numpy + scipy (the locate pipeline can use it without torch).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE

CELL = TILE_SIZE / FEATURE_GRID       # pixels per feature cell (3.5)
REACH_CELLS = 8                      # how far (horizontally) a word's next piece may be from the last


@dataclass(frozen=True)
class Match:
    box: tuple[float, float, float, float]   # pixels of the map's tile
    score: float


def _reach(mask: np.ndarray) -> np.ndarray:
    structure = np.ones((3, 2 * REACH_CELLS + 1), dtype=bool)
    return ndimage.binary_dilation(mask, structure=structure)


def decode_word(maps: np.ndarray, threshold: float) -> Match | None:
    """maps: (T, G, G) cosine maps of a query's T tokens -> the best whole-query match, or None."""
    hits = maps > threshold
    if not all(hit.any() for hit in hits):
        return None
    joint = np.logical_and.reduce([_reach(hit) for hit in hits])
    region = np.logical_or.reduce(hits) & _reach(joint)
    labels, count = ndimage.label(_reach(region) & _reach(joint))
    best: Match | None = None
    for component in range(1, count + 1):
        inside = labels == component
        if not all((hit & inside).any() for hit in hits):
            continue
        score = float(np.mean([m[inside].max() for m in maps]))
        ys, xs = np.nonzero(region & inside)
        box = (xs.min() * CELL, ys.min() * CELL, (xs.max() + 1) * CELL, (ys.max() + 1) * CELL)
        if best is None or score > best.score:
            best = Match(box, score)
    return best


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
