"""Upstream faults of the STEM routes, with real processes: the code-perception service down is
a 503 + Retry-After, a full sandbox pool a 429 + Retry-After, both with the typed body; never a
500, and the gateway recovers without a restart."""
from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from services.common.net import find_free_ports
from tests.integration.gateway.conftest import DEAD_TRITON
from tests.integration.gateway.stem_support import CodePerceptionProcess, stem_stack
from tests.integration.gateway.support import png, running_gateway

PROGRAM = "import matplotlib.pyplot as plt\nplt.plot([0, 1])\n"
# gRPC's reconnect backoff after a short outage (1 s, growing) plus the service's start-up.
BACK_WITHIN_S = 30.0
# Long enough that a second render arrives while the first holds the only worker.
SLOW_PROGRAM = "import time\nimport matplotlib.pyplot as plt\ntime.sleep(4)\nplt.plot([0, 1])\n"


def _assert_retryable(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert int(response.headers["retry-after"]) >= 1


def test_service_unreachable_is_503_with_retry_after():
    """Nothing listens where the gateway looks for the service: every STEM route, streaming included."""
    (port,) = find_free_ports(1)
    with running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=f"127.0.0.1:{port}") as gateway, \
            httpx.Client(base_url=gateway, timeout=60) as http:
        image = base64.b64encode(png(32, 32)).decode()
        for route, body in (("/v1/stem/render", {"code": PROGRAM}),
                            ("/v1/stem/image-to-code", {"image": image}),
                            ("/v1/stem/image-to-code", {"image": image, "stream": True}),
                            ("/v1/stem/score", {"reference_image": image, "candidate_code": PROGRAM})):
            _assert_retryable(http.post(route, json=body), 503, "upstream_unavailable")
        _assert_retryable(http.get("/readyz"), 503, "upstream_unavailable")  # no domain is ready
        assert http.get("/healthz").status_code == 200


@pytest.mark.timeout(300)
def test_service_killed_under_a_running_gateway_then_back(stem):
    """The service goes away while the gateway runs (503 + Retry-After, STEM readiness 503), and
    comes back on the same port: the gateway uses it again without a restart."""
    service = CodePerceptionProcess(stem.sandbox.target, stem.dataset)
    with service, running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=service.target) as gateway, \
            httpx.Client(base_url=gateway, timeout=60) as http:
        assert http.post("/v1/stem/render", json={"code": PROGRAM}).status_code == 200
        service.stop()
        _assert_retryable(http.post("/v1/stem/render", json={"code": PROGRAM}), 503, "upstream_unavailable")
        _assert_retryable(http.get("/readyz", params={"domain": "stem"}), 503, "upstream_unavailable")
        assert http.get("/healthz").status_code == 200
        service.start()
        deadline = time.monotonic() + BACK_WITHIN_S
        while (answer := http.post("/v1/stem/render", json={"code": PROGRAM})).status_code != 200:
            assert answer.status_code == 503 and "retry-after" in answer.headers, answer.text
            assert time.monotonic() < deadline, f"not back within {BACK_WITHIN_S}s of the service"
            time.sleep(0.5)
        assert http.get("/readyz", params={"domain": "stem"}).status_code == 200


@pytest.mark.timeout(300)
def test_full_sandbox_pool_is_429_with_retry_after():
    """One sandbox worker, no queue, and the service told not to wait out a full pool: of two
    concurrent slow renders, one runs and the other is refused with the pool's retry hint."""
    with stem_stack(workers=1, queue_size=0, service_env={"PERCEPT_CODEPERCEPTION_SANDBOX_RETRY_S": "0"}) as stack, \
            running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=stack.codeperception_url) as gateway:

        def render(delay_s: float) -> httpx.Response:
            time.sleep(delay_s)
            return httpx.post(f"{gateway}/v1/stem/render", json={"code": SLOW_PROGRAM}, timeout=60)

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(render, (0.0, 1.0))
        assert first.status_code == 200 and first.json()["status"] == "ok", first.text
        _assert_retryable(second, 429, "resource_exhausted")
        # Once the worker is free again, the same request succeeds.
        assert httpx.post(f"{gateway}/v1/stem/render", json={"code": PROGRAM}, timeout=60).status_code == 200
