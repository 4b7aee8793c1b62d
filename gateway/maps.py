"""Similarity maps to what a client can use: coloured PNG heatmaps, raw grids, boxes.

Display follows the upstream recipe: per-token min-max normalisation over space for
the heatmap; boxes are the connected regions above a cosine threshold (upstream
binarises at 0.2), mapped from the stitched feature grid back to image pixels.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

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


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float


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
    levels = Image.fromarray(np.round(minmax_normalise(grid) * 255).astype(np.uint8), mode="L")
    levels = levels.resize(size, Image.Resampling.BILINEAR)
    coloured = COLORMAP[np.asarray(levels)]
    buffer = io.BytesIO()
    Image.fromarray(coloured, mode="RGB").save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()


def heatmap_png_base64(grid: np.ndarray, size: tuple[int, int]) -> str:
    return base64.b64encode(heatmap_png(grid, size)).decode("ascii")


def boxes_above(grid: np.ndarray, threshold: float, image_size: tuple[int, int], *, max_boxes: int) -> list[Box]:
    """Connected regions of `grid > threshold`, in image pixel coordinates, best score first.

    The stitched grid covers the whole image (the image was resized to the tile grid),
    so one cell is (width / grid_w) x (height / grid_h) pixels of the original.
    """
    mask = grid > threshold
    if not mask.any():
        return []
    labels, count = ndimage.label(mask)
    scores = ndimage.maximum(grid, labels, index=np.arange(1, count + 1))
    slices = ndimage.find_objects(labels)
    grid_h, grid_w = grid.shape
    sx, sy = image_size[0] / grid_w, image_size[1] / grid_h
    boxes = [Box(x0=region[1].start * sx, y0=region[0].start * sy, x1=region[1].stop * sx,
                 y1=region[0].stop * sy, score=float(score))
             for region, score in zip(slices, np.atleast_1d(scores), strict=True)]
    boxes.sort(key=lambda b: b.score, reverse=True)
    return boxes[:max_boxes]
