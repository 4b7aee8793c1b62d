"""Similarity maps to what a client can use: coloured PNG heatmaps, raw grids, boxes.

Display follows the upstream recipe: per-token min-max normalisation over space for
the heatmap; boxes are the connected regions above a cosine threshold (upstream
binarises at 0.2), mapped from the stitched feature grid back to image pixels; the
whole query's matches chain them (services/models/tokenfd/query_matches.py, the one decoder).
"""
from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from services.models.tokenfd import ink_words, query_matches
from services.models.tokenfd.query_matches import Region

# Anchor colours of a perceptually ordered dark-blue -> green -> yellow ramp.
_ANCHORS = np.array([
    [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
], dtype=np.float64)


def _build_lut() -> np.ndarray:
    positions = np.linspace(0.0, 1.0, len(_ANCHORS))
    levels = np.linspace(0.0, 1.0, 256)
    lut = np.stack([np.interp(levels, positions, _ANCHORS[:, c]) for c in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


COLORMAP = _build_lut()  # (256, 3)
_PALETTE = COLORMAP.tobytes()  # PIL's palette layout: r, g, b of level 0, then of level 1, ...
# PIL resizes and compresses without the GIL, so two threads encode a query's heatmaps in about half the
# time; shared by all requests, so concurrent ones queue here instead of taking every core.
HEATMAP_ENCODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="heatmaps")


def minmax_normalise(grid: np.ndarray) -> np.ndarray:
    """Scale one token's map to [0, 1]; a flat map becomes all zeros."""
    grid = grid.astype(np.float32, copy=False)
    low, high = float(grid.min()), float(grid.max())
    if not np.isfinite(low) or not np.isfinite(high) or high - low < 1e-12:
        return np.zeros_like(grid)
    return (grid - low) / (high - low)


def heatmap_size(image_size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The PNG size: the image's size, scaled down so the longest side is at most max_side."""
    width, height = image_size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def heatmap_png(grid: np.ndarray, size: tuple[int, int]) -> bytes:
    """A palette PNG: one byte per pixel indexing the colour ramp (a third of an RGB image's bytes to
    compress) at zlib's fastest level; the heatmap is a smooth upsampled grid, which compresses well anyway."""
    levels = Image.fromarray(np.round(minmax_normalise(grid) * 255).astype(np.uint8), mode="L")
    levels = levels.resize(size, Image.Resampling.BILINEAR)
    levels.putpalette(_PALETTE, rawmode="RGB")  # an "L" image given a palette becomes a "P" image
    buffer = io.BytesIO()
    levels.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


def heatmap_png_base64(grid: np.ndarray, size: tuple[int, int]) -> str:
    return base64.b64encode(heatmap_png(grid, size)).decode("ascii")


def components(grid: np.ndarray, threshold: float, image_size: tuple[int, int],
               decoding: query_matches.Decoding = query_matches.UPSTREAM) -> list[Region]:
    """Connected regions of `grid` above the threshold (and the model's decoding's cut), in image
    pixel coordinates, best first by the decoding's rank
    (services/models/tokenfd/query_matches.py: the regions that whole-query matches chain).

    The stitched grid covers the whole image (the image was resized to the tile grid),
    so one cell is (width / grid_w) x (height / grid_h) pixels of the original.
    """
    return query_matches.regions(grid, threshold, cell_px(grid.shape, image_size), decoding)


def cell_px(grid_shape: tuple[int, ...], image_size: tuple[int, int]) -> tuple[float, float]:
    """(width, height) pixels of the image one cell of a stitched (rows, cols) grid covers."""
    grid_h, grid_w = grid_shape[-2:]
    return image_size[0] / grid_w, image_size[1] / grid_h


def ink_matches(similarity: np.ndarray, threshold: float, image_size: tuple[int, int],
                decoding: query_matches.Decoding, page_ink: ink_words.PageInk, pieces: list[str], query: str,
                max_matches: int, letters: ink_words.Letters | None = None) -> list[query_matches.Match]:
    """The whole query's matches among the image's word boxes (a decoding whose boxes come from the ink; the
    image's ink is `page_ink`, services/models/tokenfd/ink_words.py), with its letters' maps when it was
    spelled."""
    cell = cell_px(similarity.shape, image_size)
    boxes = ink_words.word_boxes(page_ink, cell, ink_words.query_words(query))
    return query_matches.ink_match(similarity, threshold, cell, max_matches, decoding, boxes, pieces, query,
                                   letters, page_ink.ink)


def boxes_above(grid: np.ndarray, threshold: float, image_size: tuple[int, int], *, max_boxes: int) -> list[Region]:
    """The best `max_boxes` of `components`."""
    return components(grid, threshold, image_size)[:max_boxes]

