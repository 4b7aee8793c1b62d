"""Boxes on a page, as both whole-query decoders read them (query_matches.py's chained regions and
ink_words.py's word boxes): how much two boxes overlap, and when two stand next to each other on one
text line. (x0, y0, x1, y1) in pixels, y down. numpy-free: serving paths import it."""
from __future__ import annotations

# Two boxes are on one line when their vertical extents overlap by at least this share of the
# shorter one (the maps blur a glyph's box by a cell or two, so not all of it).
MIN_LINE_OVERLAP = 0.5
# The next box may start at most this many line heights right of the previous one's end: about a
# space between words, with room for blur; a box on the line's next word further on is another match.
MAX_GAP_LINE_HEIGHTS = 1.0


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes (0 when both are empty)."""
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
