"""Image metrics: how alike two pictures are, from their pixels alone.

Resolution policy: the candidate is compared at the *reference's* geometry, because the
reference is what is to be reproduced. For each metric the reference's size is scaled
down so that its longer side is at most that metric's maximum (SSIM_MAX_SIDE,
EDGE_MAX_SIDE), and up so that its shorter side is at least COMPARE_MIN_SIDE (SSIM's
Gaussian window needs 11 pixels); the candidate is resized to exactly that size, so a
wrong aspect ratio shows as distortion and is penalised rather than hidden. Resizing is
Lanczos (antialiased), from the decoded image each time; images are RGB on white
(transparency is composited over white, matplotlib's default face colour). The fixed
sizes bound the cost whatever the DPI and make a 300-dpi benchmark image and a 100-dpi
render of the same code comparable: SSIM works at 256 px, close to the viewing scale its
authors' reference code (ssim.m) downsamples to, where antialiasing differences between DPIs
average out (same code at 300 vs 100 dpi: SSIM 0.96-0.98 on the pair programs, against
0.87-0.96 at 512 px); edges, tolerant by construction, at 512 px, where text strokes
still show.

- ssim: SSIM (scikit-image, Gaussian window sigma 1.5, the parameters of Wang et al.
  2004) per R, G, B channel, its map averaged over the channels and then over the *drawn
  region*: the pixels where either image differs from the reference's page colour (its
  most frequent colour), widened by INK_MARGIN_PX. A plot is mostly empty page, where
  SSIM is 1 whatever was drawn: averaged over the whole image, a blank candidate scores
  0.67-0.94 against the pair programs (0.09-0.39 over the drawn region). Per channel, because
  in image-only mode no other metric sees colour (blue and green of the same luminance
  look identical in grey). Two blank pages score 1; negative SSIM is 0.
- edge: F1 of Canny edge pixels (of the grey images) with a tolerance of EDGE_TOLERANCE_PX
  at the common size: a candidate edge counts as correct when a reference edge lies within
  the tolerance (precision), and vice versa (recall). It ignores colour and flat areas, so
  it reacts to moved, missing or extra strokes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation
from skimage.color import rgb2gray
from skimage.feature import canny
from skimage.metrics import structural_similarity
from skimage.morphology import disk

from services.common.images import decode_image

SSIM_MAX_SIDE = 256
EDGE_MAX_SIDE = 512
COMPARE_MIN_SIDE = 16  # > SSIM's Gaussian window, with room for its border
SSIM_SIGMA = 1.5
SSIM_WINDOW = 2 * int(3.5 * SSIM_SIGMA + 0.5) + 1  # scikit-image's Gaussian window (truncate 3.5): 11
INK_THRESHOLD = 24 / 255  # a channel this far from the page colour is drawn on (above JPEG noise)
INK_MARGIN_PX = 3
CANNY_SIGMA = 1.0
EDGE_TOLERANCE_PX = 2


def decode_on_white(data: bytes, *, max_pixels: int | None = None) -> Image.Image:
    """Decode with the platform's limits and typed errors, transparency over white, in one
    decode (services.common.images)."""
    return decode_image(data, max_pixels=max_pixels, on_white=True)


def common_size(reference_size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """(width, height) both images are compared at (see the module's policy)."""
    width, height = reference_size
    scale = min(1.0, max_side / max(width, height))
    width, height = max(1, round(width * scale)), max(1, round(height * scale))
    return max(width, COMPARE_MIN_SIDE), max(height, COMPARE_MIN_SIDE)


def to_common_array(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) float RGB in [0, 1] at `size`."""
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.float64) / 255.0


def page_color(rgb: np.ndarray) -> np.ndarray:
    """The most frequent colour of an image (the figure's face colour, for a plot)."""
    codes = np.round(rgb * 255).astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.int32)
    values, counts = np.unique(codes.ravel(), return_counts=True)
    code = int(values[np.argmax(counts)])
    return np.array([(code >> 16) & 255, (code >> 8) & 255, code & 255], dtype=np.float64) / 255.0


def ink_mask(reference: np.ndarray, candidate: np.ndarray, page: np.ndarray | None = None) -> np.ndarray:
    """Pixels either image drew on: away from the reference's page colour, widened by
    INK_MARGIN_PX so that SSIM's window sees each stroke with its surroundings."""
    page = page_color(reference) if page is None else page
    ink = ((np.abs(reference - page).max(axis=2) > INK_THRESHOLD)
           | (np.abs(candidate - page).max(axis=2) > INK_THRESHOLD))
    return binary_dilation(ink, disk(INK_MARGIN_PX))


def _edges(rgb: np.ndarray) -> np.ndarray:
    return canny(rgb2gray(rgb), sigma=CANNY_SIGMA)


@dataclass(frozen=True)
class PreparedReference:
    """A reference image decoded, resized and edge-detected once: best-of-N scores N
    candidates against the same input, and half of each comparison is the reference's."""
    ssim_rgb: np.ndarray    # at common_size(size, SSIM_MAX_SIDE)
    page: np.ndarray        # its page colour
    edge_rgb_size: tuple[int, int]
    edges: np.ndarray       # Canny edges at common_size(size, EDGE_MAX_SIDE)
    edges_near: np.ndarray  # the same, widened by EDGE_TOLERANCE_PX
    size: tuple[int, int]   # the input's own (width, height) in pixels

    @property
    def ssim_size(self) -> tuple[int, int]:
        return self.ssim_rgb.shape[1], self.ssim_rgb.shape[0]


def prepare_reference(reference: bytes | Image.Image, *, max_pixels: int | None = None) -> PreparedReference:
    """The reference's half of every comparison, from its encoded bytes or from an image
    the caller already decoded on white (`decode_image(..., on_white=True)`)."""
    if not isinstance(reference, Image.Image):
        reference = decode_on_white(reference, max_pixels=max_pixels)
    ssim_rgb = to_common_array(reference, common_size(reference.size, SSIM_MAX_SIDE))
    edge_size = common_size(reference.size, EDGE_MAX_SIDE)
    edges = _edges(to_common_array(reference, edge_size))
    return PreparedReference(ssim_rgb=ssim_rgb, page=page_color(ssim_rgb), edge_rgb_size=edge_size,
                             edges=edges, edges_near=binary_dilation(edges, disk(EDGE_TOLERANCE_PX)),
                             size=reference.size)


def ssim_similarity(reference: np.ndarray, candidate: np.ndarray, page: np.ndarray | None = None) -> float:
    _, ssim_map = structural_similarity(reference, candidate, channel_axis=2, data_range=1.0, full=True,
                                        gaussian_weights=True, sigma=SSIM_SIGMA, use_sample_covariance=False)
    pad = SSIM_WINDOW // 2  # as scikit-image's own mean: no value from the padded border
    ssim_map = ssim_map.mean(axis=2)[pad:-pad, pad:-pad]
    mask = ink_mask(reference, candidate, page)[pad:-pad, pad:-pad]
    if not mask.any():
        return 1.0  # two blank pages of the same colour
    return float(np.clip(ssim_map[mask].mean(dtype=np.float64), 0.0, 1.0))


def edge_f1(ref_edges: np.ndarray, cand_edges: np.ndarray, ref_near: np.ndarray | None = None) -> float:
    ref_count, cand_count = int(ref_edges.sum()), int(cand_edges.sum())
    if ref_count == 0 and cand_count == 0:
        return 1.0  # two flat images: nothing differs
    if ref_count == 0 or cand_count == 0:
        return 0.0
    near = disk(EDGE_TOLERANCE_PX)
    ref_near = binary_dilation(ref_edges, near) if ref_near is None else ref_near
    precision = float((cand_edges & ref_near).sum()) / cand_count
    recall = float((ref_edges & binary_dilation(cand_edges, near)).sum()) / ref_count
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def image_metrics(reference: bytes | PreparedReference, candidate_bytes: bytes, *,
                  max_pixels: int | None = None) -> dict[str, float]:
    """{"ssim": ..., "edge": ...} of an encoded (PNG, JPEG, ...) or prepared reference and
    an encoded candidate."""
    if not isinstance(reference, PreparedReference):
        reference = prepare_reference(reference, max_pixels=max_pixels)
    candidate = decode_on_white(candidate_bytes, max_pixels=max_pixels)
    return {
        "ssim": ssim_similarity(reference.ssim_rgb, to_common_array(candidate, reference.ssim_size),
                                reference.page),
        "edge": edge_f1(reference.edges, _edges(to_common_array(candidate, reference.edge_rgb_size)),
                        reference.edges_near),
    }
