"""The fidelity report: which metrics exist, how they aggregate, what a failed render scores.

Maps 1:1 onto the `Fidelity` message of percept.codeperception.v1 (the names below are
its field names). Every metric is a similarity in [0, 1], 1 meaning identical.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

IMAGE_ONLY = "image_only"
IMAGE_AND_TRACE = "image_and_trace"

# Computed for every rendered candidate (from the pixels of both images).
IMAGE_METRICS = ("ssim", "edge")
# Computed only when the reference code was rendered too (from both execution traces).
TRACE_METRICS = ("text_f1", "layout_f1", "type_f1", "color_f1")
METRICS = IMAGE_METRICS + TRACE_METRICS


@dataclass(frozen=True)
class FidelityReport:
    aggregate: float  # aggregate_of(...) of the computed metrics
    mode: str  # IMAGE_ONLY | IMAGE_AND_TRACE
    ssim: float | None = None
    edge: float | None = None
    text_f1: float | None = None
    layout_f1: float | None = None
    type_f1: float | None = None
    color_f1: float | None = None

    @property
    def computed(self) -> tuple[str, ...]:
        """Names of the metrics that were computed, in field order."""
        return tuple(name for name in METRICS if getattr(self, name) is not None)

    def as_dict(self) -> dict:
        return {**asdict(self), "computed": list(self.computed)}


def aggregate_of(metrics: dict[str, float]) -> float:
    """The documented aggregate (docs/codeperception.md, "Fidelity metrics"): the plain mean
    of the computed metrics. Equal weights, because no metric is known to track the
    benchmark's judges better than another; image-only and image+trace reports are each
    comparable within their mode, not across modes."""
    if not metrics:
        return 0.0
    return min(1.0, max(0.0, sum(metrics.values()) / len(metrics)))


def build_report(metrics: dict[str, float]) -> FidelityReport:
    """A report from computed metrics (names from METRICS); the mode follows from which ones."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown fidelity metrics: {sorted(unknown)}")
    mode = IMAGE_AND_TRACE if any(name in metrics for name in TRACE_METRICS) else IMAGE_ONLY
    clipped = {name: min(1.0, max(0.0, float(value))) for name, value in metrics.items()}
    return FidelityReport(aggregate=aggregate_of(clipped), mode=mode, **clipped)


def zero_report(with_trace: bool) -> FidelityReport:
    """What a candidate that failed to render scores: every applicable metric 0."""
    names = METRICS if with_trace else IMAGE_METRICS
    return build_report({name: 0.0 for name in names})


assert tuple(f.name for f in fields(FidelityReport))[2:] == METRICS  # one list of names
