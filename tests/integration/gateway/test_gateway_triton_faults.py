"""Fault survival: tritonserver is killed (SIGKILL to its whole process group) while a real
gateway process serves a bounded loop of concurrent locate requests, then restarted on the
same ports.

Every request must end within its client deadline with 200, or 503 + Retry-After and the
typed error body (never a 500, never a hung or dropped connection); /readyz must say 503
during the outage and 200 within 10 s of the restarted Triton being ready; requests must
succeed again afterwards. Loopback only; bounded in requests and in time.
"""
from __future__ import annotations

import base64
import os
import signal
import threading
import time
from dataclasses import dataclass

import httpx
import pytest

from services.triton.launcher import TritonServer, process_group_members
from tests.integration.gateway.support import png, running_gateway

CLIENT_TIMEOUT_S = 15.0        # the request deadline; the gateway's Triton deadline is below it
GATEWAY_TRITON_TIMEOUT_S = "10"
WORKERS = 3
MAX_REQUESTS = 2000            # bound on the whole loop
PAUSE_S = 0.1                  # per worker between requests: fast 503s must not use up the bound
LOOP_DEADLINE_S = 150.0        # bound on the whole loop
READY_AGAIN_WITHIN_S = 10.0
BODY = {"image": base64.b64encode(png(96, 64, seed=5)).decode(), "query": "total", "heatmap_format": "none"}


@dataclass(frozen=True)
class Outcome:
    started: float
    elapsed: float
    status: int | None            # None: no HTTP answer (timeout, reset)
    retry_after: str | None = None
    body: dict | None = None
    failure: str | None = None


class LocateLoad:
    """WORKERS threads posting locate requests until stopped or MAX_REQUESTS were sent."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sent = 0
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WORKERS)]

    def __enter__(self) -> "LocateLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT_S + 5)

    def _take_slot(self) -> bool:
        with self._lock:
            if self._stop.is_set() or self._sent >= MAX_REQUESTS:
                return False
            self._sent += 1
            return True

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT_S) as http:
            while self._take_slot():
                started = time.monotonic()
                try:
                    response = http.post("/v1/text/locate", json=BODY)
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    outcome = Outcome(started, time.monotonic() - started, response.status_code,
                                      response.headers.get("retry-after"), body)
                except httpx.HTTPError as exc:
                    outcome = Outcome(started, time.monotonic() - started, None, failure=repr(exc))
                with self._lock:
                    self.outcomes.append(outcome)
                self._stop.wait(PAUSE_S)

    def successes_after(self, moment: float) -> int:
        with self._lock:
            return sum(1 for o in self.outcomes if o.started >= moment and o.status == 200)


def _wait_for(predicate, timeout_s: float, interval_s: float = 0.1) -> float | None:
    """Seconds until predicate() held, or None if it did not within timeout_s."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval_s)
    return None


def _kill_process_group(server: TritonServer) -> None:
    pgid = server.pid
    os.killpg(pgid, signal.SIGKILL)
    server.process.wait(timeout=30)
    assert _wait_for(lambda: not process_group_members(pgid), 30) is not None, "the stubs outlived the kill"
    server.stop()  # nothing left to signal: removes the dead server's shared memory and workspace


def _readyz(http: httpx.Client) -> int:
    try:
        return http.get("/readyz").status_code
    except httpx.HTTPError:
        return -1


@pytest.mark.timeout(400)
def test_gateway_survives_triton_kill_and_restart(tokenfd_artifacts, triton_stub_site):
    first = TritonServer(tokenfd_artifacts.repository, http_port=0, grpc_port=0, metrics_port=0)
    ports = {"http_port": first.http_port, "grpc_port": first.grpc_port, "metrics_port": first.metrics_port}
    second = TritonServer(tokenfd_artifacts.repository, **ports)
    loop_started = time.monotonic()
    try:
        with first:
            with running_gateway(first.grpc_url, PERCEPT_GATEWAY_TRITON_TIMEOUT_S=GATEWAY_TRITON_TIMEOUT_S) as url, \
                    httpx.Client(base_url=url, timeout=5) as probe, LocateLoad(url) as load:
                assert _readyz(probe) == 200
                assert _wait_for(lambda: load.successes_after(loop_started) >= 5, 60), "no successes before the kill"

                _kill_process_group(first)
                assert _wait_for(lambda: _readyz(probe) == 503, 5) is not None, "/readyz stayed 200 with Triton dead"
                time.sleep(2)  # requests keep arriving during the outage
                assert _readyz(probe) == 503

                second.start()
                second.wait_ready()
                triton_ready_at = time.monotonic()
                ready_after_s = _wait_for(lambda: _readyz(probe) == 200, READY_AGAIN_WITHIN_S + 5)
                assert ready_after_s is not None and ready_after_s <= READY_AGAIN_WITHIN_S, (
                    f"/readyz not 200 within {READY_AGAIN_WITHIN_S}s of Triton being ready ({ready_after_s})")
                assert _wait_for(lambda: load.successes_after(triton_ready_at) >= 5, 30), \
                    f"requests did not succeed again after the restart: {load.outcomes[-3:]}"
                assert time.monotonic() - loop_started < LOOP_DEADLINE_S
    finally:
        second.stop()
        first.stop()

    outcomes = load.outcomes
    assert len(outcomes) <= MAX_REQUESTS
    no_answer = [o for o in outcomes if o.status is None]
    assert not no_answer, f"requests without an HTTP answer (hung or dropped): {no_answer[:5]}"
    statuses = sorted({o.status for o in outcomes})
    assert set(statuses) <= {200, 503}, f"statuses seen: {statuses}; " + \
        str([o.body for o in outcomes if o.status not in (200, 503)][:5])
    unavailable = [o for o in outcomes if o.status == 503]
    assert unavailable, "no request saw the outage"
    for outcome in unavailable:
        assert outcome.retry_after is not None and int(outcome.retry_after) >= 1, outcome
        error = (outcome.body or {}).get("error", {})
        assert error.get("code") in {"upstream_unavailable", "upstream_timeout"}, outcome
        assert error.get("message") and error.get("request_id"), outcome
    assert max(o.elapsed for o in outcomes) < CLIENT_TIMEOUT_S
