"""Colours: CIEDE2000 similarity, the colour F1, and approximate colour names.

- Similarity of two colours: max(0, 1 - dE00 / DELTA_E_SCALE) with dE00 the CIEDE2000
  difference (scikit-image) in CIELAB (D65). dE00 ~1 is a just-noticeable difference and
  ~100 black against white, so 1 is identical and 0 is "as far apart as black and white"
  (ChartMimic's low-level colour score maps dE the same way).
- color_f1 (ChartMimic-style, weighted): the reference's and the candidate's distinct
  colours, each weighted by how many artists/elements use it, are paired one-to-one by
  the assignment that maximises sum(similarity * min(weight_ref, weight_cand))
  (scipy's linear_sum_assignment); that sum is the matched mass, and precision = matched /
  candidate mass, recall = matched / reference mass. Identical palettes score 1; a
  recoloured series loses its weight times (1 - similarity); a colour used by 200 scatter
  points counts more than one used by a single line, as in the type F1's sum of minima.
- Names: the nearest CSS4 colour (matplotlib's table) by CIEDE2000, for captions.

Translucent colours ('#rrggbbaa') are compared as they look on white.
"""
from __future__ import annotations

import functools
from collections import Counter

import numpy as np
from matplotlib.colors import CSS4_COLORS
from scipy.optimize import linear_sum_assignment
from skimage.color import deltaE_ciede2000, rgb2lab

DELTA_E_SCALE = 100.0
MAX_COLORS_COMPARED = 64  # the most used ones; bounds the assignment's cost


def hex_to_rgb(color: str) -> tuple[float, float, float] | None:
    """'#rgb', '#rrggbb' or '#rrggbbaa' as RGB in [0, 1], alpha composited over white."""
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    if len(text) not in (6, 8):
        return None
    try:
        channels = [int(text[i:i + 2], 16) / 255.0 for i in range(0, len(text), 2)]
    except ValueError:
        return None
    alpha = channels[3] if len(channels) == 4 else 1.0
    return tuple(alpha * c + (1.0 - alpha) for c in channels[:3])


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in [0, 1] -> CIELAB."""
    return rgb2lab(np.asarray(rgb, dtype=np.float64).reshape(-1, 1, 3)).reshape(np.shape(rgb))


def similarity_matrix(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) colour similarities in [0, 1] of two (n, 3) CIELAB arrays."""
    delta = deltaE_ciede2000(lab_a[:, None, :], lab_b[None, :, :])
    return np.clip(1.0 - delta / DELTA_E_SCALE, 0.0, 1.0)


def _palette(usage: Counter) -> tuple[np.ndarray, np.ndarray]:
    """(CIELAB colours (n, 3), weights (n,)) of the most used valid colours."""
    rgbs, weights = [], []
    for color, count in usage.most_common():
        rgb = hex_to_rgb(color)
        if rgb is not None and count > 0:
            rgbs.append(rgb)
            weights.append(float(count))
        if len(rgbs) == MAX_COLORS_COMPARED:
            break
    return to_lab(np.array(rgbs).reshape(-1, 3)), np.array(weights)


def color_f1(reference: Counter, candidate: Counter) -> float:
    """Weighted colour F1 of two {hex: usage count} palettes (see the module's docstring)."""
    ref_lab, ref_weight = _palette(reference)
    cand_lab, cand_weight = _palette(candidate)
    if len(ref_weight) == 0 and len(cand_weight) == 0:
        return 1.0  # neither drew a coloured artist
    if len(ref_weight) == 0 or len(cand_weight) == 0:
        return 0.0
    gain = similarity_matrix(ref_lab, cand_lab) * np.minimum(ref_weight[:, None], cand_weight[None, :])
    rows, cols = linear_sum_assignment(gain, maximize=True)
    matched = float(gain[rows, cols].sum())
    precision, recall = matched / cand_weight.sum(), matched / ref_weight.sum()
    return 0.0 if matched <= 0 else 2 * precision * recall / (precision + recall)


@functools.lru_cache(maxsize=1)
def _css4_table() -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(sorted(CSS4_COLORS))  # sorted: ties resolve the same way everywhere
    return names, to_lab(np.array([hex_to_rgb(CSS4_COLORS[name]) for name in names]))


@functools.lru_cache(maxsize=1024)
def color_name(color: str) -> str | None:
    """The nearest CSS4 colour name of a hex colour (by CIEDE2000), None if not a colour."""
    rgb = hex_to_rgb(color)
    if rgb is None:
        return None
    names, table = _css4_table()
    delta = deltaE_ciede2000(to_lab(np.array([rgb]))[0][None, :], table)
    return names[int(np.argmin(delta))]
