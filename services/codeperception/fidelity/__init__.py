"""Deterministic fidelity of a render against a reference (no model, no LLM judge).

    score(reference_png, candidate_png)                       -> image metrics
    score(prepare_reference(reference_png), candidate_png)    -> the same, the reference's half done once
    score(..., reference_trace=..., candidate_trace=...)      -> image + trace metrics
    zero_report(with_trace)                                   -> a candidate that did not render

Modules: images (SSIM, edge F1), trace (reading the sandbox's execution trace),
trace_metrics (text, layout, type F1), colors (CIEDE2000 colour F1), report (the
report, its aggregate). The metrics and the aggregate are documented in
docs/codeperception.md, "Fidelity metrics".
"""
from __future__ import annotations

from .images import PreparedReference, image_metrics, prepare_reference
from .report import (
    IMAGE_AND_TRACE,
    IMAGE_METRICS,
    IMAGE_ONLY,
    METRICS,
    TRACE_METRICS,
    FidelityReport,
    build_report,
    zero_report,
)
from .trace_metrics import trace_metrics

__all__ = ["FidelityReport", "PreparedReference", "prepare_reference", "score", "zero_report", "METRICS",
           "IMAGE_METRICS", "TRACE_METRICS", "IMAGE_ONLY", "IMAGE_AND_TRACE"]


def score(reference_png: bytes | PreparedReference, candidate_png: bytes, *,
          reference_trace: dict | None = None, candidate_trace: dict | None = None,
          max_pixels: int | None = None) -> FidelityReport:
    """Image metrics always; trace metrics when both traces are given (reference code was rendered).

    `reference_png` may be any decodable image (the user's input) or one prepared by
    `prepare_reference` (to score many candidates against it), `candidate_png` a
    sandbox render; an undecodable or oversized one raises services.common.errors.PerceptError
    (a client fault). `max_pixels` is the decode limit (default: PERCEPT_MAX_IMAGE_PIXELS)."""
    metrics = image_metrics(reference_png, candidate_png, max_pixels=max_pixels)
    if reference_trace is not None and candidate_trace is not None:
        metrics.update(trace_metrics(reference_trace, candidate_trace))
    return build_report(metrics)
