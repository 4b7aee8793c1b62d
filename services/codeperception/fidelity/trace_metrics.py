"""Trace metrics: ChartMimic's low-level F1 scores, from two execution traces.

Each compares what the reference program drew with what the candidate drew, as
multisets, with F1 = 2PR / (P + R) over the matched amount ("sum of minima": a key the
reference has 3 times and the candidate 2 times matches twice):

- text_f1: the drawn strings, exact (every role: titles, labels, ticks, legends, texts).
  When either trace was trimmed (tick texts are the first detail the sandbox drops),
  tick labels are left out of both, so trimming does not read as a difference.
- layout_f1: each axes' place: figure, role (axes or colorbar), subplot grid geometry
  and the rows and columns it spans (free-placed axes: only "free"); only the number of
  axes per figure when either trace was trimmed to axes counts.
- type_f1: the drawn data artists by class (Line2D, Rectangle, PathCollection, ...)
  summed over all axes; by the coarse `counts` kinds when either trace lost its
  artist classes to trimming.
- color_f1: fidelity.colors (CIEDE2000 with an optimal assignment).

Two empty multisets score 1 (nothing drawn, nothing missed), one empty against a
non-empty one 0.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from . import trace as tr
from .colors import color_f1


def multiset_f1(reference: Iterable | Counter, candidate: Iterable | Counter) -> float:
    ref = reference if isinstance(reference, Counter) else Counter(reference)
    cand = candidate if isinstance(candidate, Counter) else Counter(candidate)
    ref_total, cand_total = sum(ref.values()), sum(cand.values())
    if ref_total == 0 and cand_total == 0:
        return 1.0
    matched = sum((ref & cand).values())
    if matched == 0:
        return 0.0
    precision, recall = matched / cand_total, matched / ref_total
    return 2 * precision * recall / (precision + recall)


def text_f1(reference: tr.Trace, candidate: tr.Trace) -> float:
    with_ticks = not (reference.truncated or candidate.truncated)
    return multiset_f1(tr.drawn_texts(reference, include_ticks=with_ticks),
                       tr.drawn_texts(candidate, include_ticks=with_ticks))


def layout_f1(reference: tr.Trace, candidate: tr.Trace) -> float:
    detailed = reference.has_axes_detail and candidate.has_axes_detail
    return multiset_f1(tr.grid_positions(reference, detailed=detailed),
                       tr.grid_positions(candidate, detailed=detailed))


def type_f1(reference: tr.Trace, candidate: tr.Trace) -> float:
    by_class = reference.has_artist_types and candidate.has_artist_types
    return multiset_f1(tr.artist_type_counts(reference, by_class=by_class),
                       tr.artist_type_counts(candidate, by_class=by_class))


def trace_metrics(reference: dict, candidate: dict) -> dict[str, float]:
    """{"text_f1", "layout_f1", "type_f1", "color_f1"} of two parsed traces (trace_json)."""
    ref, cand = tr.read(reference), tr.read(candidate)
    return {
        "text_f1": text_f1(ref, cand),
        "layout_f1": layout_f1(ref, cand),
        "type_f1": type_f1(ref, cand),
        "color_f1": color_f1(tr.color_usage(ref), tr.color_usage(cand)),
    }
