"""Prometheus metrics of the runner (base units, low-cardinality labels)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ..config import ISOLATION_MODES
from ..render.results import Status

LATENCY_BUCKETS = (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.renders = Counter("percept_sandbox_renders_total", "Finished renders, by result status.",
                               ["status"], registry=r)
        for status in Status:
            self.renders.labels(status.value)  # every series exists from the start
        self.latency = Histogram("percept_sandbox_render_duration_seconds",
                                 "Time from accepting a render to its result, queueing included.",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("percept_sandbox_queue_depth", "Renders waiting for a worker.", registry=r)
        self.in_flight = Gauge("percept_sandbox_in_flight_renders", "Renders running in a jail.", registry=r)
        self.ready_children = Gauge("percept_sandbox_ready_children",
                                    "Pre-forked, pre-jailed children waiting for a render.", registry=r)
        self.zygote_restarts = Counter("percept_sandbox_zygote_restarts_total",
                                       "Times a dead zygote was replaced.", registry=r)
        self.rejected = Counter("percept_sandbox_rejected_requests_total",
                                "Requests refused before running, by reason.", ["reason"], registry=r)
        for reason in ("queue_full", "invalid_request", "unavailable"):
            self.rejected.labels(reason)
        self.isolation = Gauge("percept_sandbox_isolation_layer_enabled",
                               "1 if an isolation layer is active for every render (namespaces, seccomp, rlimits, "
                               "fresh_process, clean_environment, private_directory, read_only_root).", ["layer"],
                               registry=r)
        self.isolation_mode = Gauge("percept_sandbox_isolation_mode",
                                    "1 for the runner's isolation mode (jail: namespaces per render; pod: the pod "
                                    "is the outer wall).", ["mode"], registry=r)

    def report_isolation(self, mode: str, layers: dict[str, bool]) -> None:
        for layer, active in layers.items():
            self.isolation.labels(layer).set(1 if active else 0)
        for known in ISOLATION_MODES:
            self.isolation_mode.labels(known).set(1 if known == mode else 0)
