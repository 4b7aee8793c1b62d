"""Prometheus metrics of the code-perception service (own /metrics port).

Base units, `_seconds` / `_total` suffixes, low-cardinality labels only: the backend
name, the render status, the fidelity mode, the RPC and the stable error code.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

PREFIX = "percept_codeperception"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
CANDIDATE_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32)
GAIN_BUCKETS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.generation_seconds = Histogram(
            f"{PREFIX}_generation_duration_seconds", "Time to generate one candidate, by backend.",
            ["backend"], buckets=LATENCY_BUCKETS, registry=registry)
        self.render_seconds = Histogram(
            f"{PREFIX}_render_duration_seconds", "Time of one sandbox render as this service sees it "
            "(queueing and retries included), by result status.", ["status"], buckets=LATENCY_BUCKETS,
            registry=registry)
        self.candidates = Histogram(
            f"{PREFIX}_candidates_per_request", "Candidates generated per ImageToCode request.",
            buckets=CANDIDATE_BUCKETS, registry=registry)
        self.fidelity = Histogram(
            f"{PREFIX}_fidelity_score", "Aggregate fidelity of each rendered and scored candidate, by mode.",
            ["mode"], buckets=SCORE_BUCKETS, registry=registry)
        self.refinement_gain = Histogram(
            f"{PREFIX}_refinement_gain", "Aggregate fidelity the refinement added to the best candidate, per "
            "refined request (0 when no try scored higher).", buckets=GAIN_BUCKETS, registry=registry)
        self.requests = Counter(f"{PREFIX}_requests_total", "RPCs received, by method.", ["rpc"],
                                registry=registry)
        self.request_seconds = Histogram(
            f"{PREFIX}_request_duration_seconds", "Wall time of one RPC, by method.", ["rpc"],
            buckets=LATENCY_BUCKETS, registry=registry)
        self.errors = Counter(f"{PREFIX}_errors_total", "RPCs that ended in an error, by method and stable "
                              "error code.", ["rpc", "code"], registry=registry)
