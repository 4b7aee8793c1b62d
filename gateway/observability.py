"""Prometheus metrics and request ids for every HTTP request.

A pure ASGI middleware: it sees the route *template* Starlette matched (never the raw
path, so label cardinality stays bounded), the final status, and the time to the last
byte. The request id comes from `X-Request-ID` or is generated, is echoed back, and is
passed to Triton so one id follows a request through every service.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter("percept_gateway_requests_total", "HTTP requests answered.",
                   ["method", "route", "status"])
LATENCY = Histogram("percept_gateway_request_duration_seconds", "HTTP request latency, to the last byte.",
                    ["method", "route", "status"], buckets=LATENCY_BUCKETS)
IN_FLIGHT = Gauge("percept_gateway_requests_in_flight", "HTTP requests being handled.")
UPSTREAM_LATENCY = Histogram("percept_gateway_upstream_duration_seconds",
                             "Latency of inference calls from the gateway to Triton.", ["model", "outcome"],
                             buckets=LATENCY_BUCKETS)
UPSTREAM_CHECKS = Counter("percept_gateway_upstream_checks_total",
                          "Readiness and config calls from the gateway to Triton (not inferences).", ["kind"])
UPSTREAM_RETRIES = Counter("percept_gateway_upstream_retries_total",
                           "Triton calls retried after a connection failure.", ["model"])

# Generations (chat completions, document VQA); `endpoint` is chat or vqa, `model` the Triton model.
GENERATION_TTFT = Histogram("percept_gateway_generation_time_to_first_token_seconds",
                            "Time from sending a generation to Triton to its first text.", ["model", "endpoint"],
                            buckets=LATENCY_BUCKETS)
GENERATION_TOKENS = Counter("percept_gateway_generation_tokens_total",
                            "Tokens of finished generations, by kind (prompt or completion).", ["model", "kind"])
GENERATIONS = Counter("percept_gateway_generations_total",
                      "Generations ended, by outcome (stop, length, cancelled, or an error code).",
                      ["model", "endpoint", "outcome"])
GENERATIONS_IN_FLIGHT = Gauge("percept_gateway_generations_in_flight", "Generation streams open to Triton.",
                              ["model"])

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "(unmatched)"


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the request id when the record carries one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname.lower(),
                 "logger": record.name, "msg": record.getMessage()}
        for key in ("request_id", "route", "status", "duration_s", "method"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


access_log = logging.getLogger("percept.gateway.access")


class ObservabilityMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            IN_FLIGHT.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            duration = time.perf_counter() - start
            labels = (scope["method"], template, str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(duration)
            access_log.info("%s %s %s", scope["method"], template, status,
                            extra={"request_id": request_id, "route": template, "status": status,
                                   "duration_s": round(duration, 4), "method": scope["method"]})
