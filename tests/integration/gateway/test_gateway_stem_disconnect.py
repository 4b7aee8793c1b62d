"""A STEM client that goes away stops the code-perception call at once, not at the gateway's next write.

The dataset's program sleeps before it draws, so a candidate's render keeps the service busy for
SLOW_S with no event to send: a gateway that noticed the client only when writing would keep the
call running for that long. Real processes: a sandbox of its own (the sleeping renders stay in it),
the code-perception service (reference backend) and the gateway. The service counts a call its
caller left as `percept_codeperception_errors_total{code="cancelled"}`. (Mid-stream, the server's
ASGI version decides whether Starlette would have listened anyway; tests/unit/gateway/
test_gateway_sse_disconnect.py holds the gateway's response to it under ASGI 2.4.)"""
from __future__ import annotations

import base64
import json
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from services.codeperception.extraction import extract_code
from tests.integration.gateway.conftest import DEAD_TRITON
from tests.integration.gateway.stem_support import PROGRAMS, CodePerceptionProcess, build_dataset
from tests.integration.gateway.support import running_gateway
from tests.prometheus_text import sample_total, scrape
from tests.sandbox.harness import SandboxServer

SLOW_S = 20            # how long each render sleeps before it draws
NOTICED_WITHIN_S = 4   # the call must have ended by then; far below SLOW_S
RENDER_START_S = 10    # how long the render may take to start (it is not what this test measures)
ATTEMPTS = 3
IMAGE_TO_CODE = "/v1/stem/image-to-code"


def _slowed(dataset: Path) -> None:
    """Every ground-truth program of `dataset` sleeps SLOW_S seconds first (its image is unchanged)."""
    jsonl = dataset / "data.jsonl"
    records = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    for record in records:
        part = record["messages"][3]["content"][0]
        code = extract_code(part["text"]) or part["text"]
        part["text"] = f"```python\nimport time\ntime.sleep({SLOW_S})\n{code}\n```"
    jsonl.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.fixture(scope="module")
def slow_stem():
    with tempfile.TemporaryDirectory(prefix="stem-slow-") as scratch, \
            SandboxServer(workers=2, queue_size=2) as sandbox:
        dataset = build_dataset(sandbox, Path(scratch) / "stem2code", programs=PROGRAMS[:1])
        _slowed(dataset)
        with CodePerceptionProcess(sandbox.target, dataset) as service, \
                running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=service.target) as gateway:
            image = base64.b64encode(next((dataset / "images").glob("*.png")).read_bytes()).decode()
            yield sandbox, service, gateway, image


def _cancelled(service: CodePerceptionProcess, rpc: str) -> float:
    return sample_total(scrape(service.metrics_url), "percept_codeperception_errors_total",
                        {"rpc": rpc, "code": "cancelled"}) or 0.0


def _wait_for(check, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _rendering(sandbox: SandboxServer) -> bool:
    return sandbox.metric_value("percept_sandbox_in_flight_renders") >= 1


@pytest.mark.timeout(180)
def test_leaving_a_stream_while_no_event_is_due_cancels_the_call_at_once(slow_stem):
    sandbox, service, gateway, image = slow_stem
    body = {"image": image, "candidates": 1, "stream": True}
    # Now and then the sandbox's in-flight gauge is not seen up within the wait (a start-up race not
    # under test here): such an attempt is dropped and the stream asked again, at most ATTEMPTS times.
    for _ in range(ATTEMPTS):
        before = _cancelled(service, "ImageToCodeStream")
        with httpx.Client(base_url=gateway, timeout=60) as http, \
                http.stream("POST", IMAGE_TO_CODE, json=body) as response:
            assert response.status_code == 200
            assert next(response.iter_lines()) == "event: progress"  # generated; the render is next
            rendering = _wait_for(lambda: _rendering(sandbox), RENDER_START_S)
            left = time.monotonic()
        # The connection is closed here; with the render sleeping, no event is due for SLOW_S.
        if rendering:
            break
        _wait_for(lambda: not _rendering(sandbox), SLOW_S + 5)
    assert rendering, f"the render did not start in {ATTEMPTS} attempts"
    assert _wait_for(lambda: _cancelled(service, "ImageToCodeStream") == before + 1, NOTICED_WITHIN_S), \
        f"the call still ran {NOTICED_WITHIN_S} s after the client left"
    assert time.monotonic() - left < SLOW_S


@pytest.mark.timeout(120)
def test_leaving_before_the_answer_cancels_the_call(slow_stem):
    """Without `stream`, the same: the client that gives up stops the best-of-N run it asked for."""
    sandbox, service, gateway, image = slow_stem
    before = _cancelled(service, "ImageToCode")
    with pytest.raises(httpx.ReadTimeout):  # the client gives up while the render sleeps
        httpx.post(f"{gateway}{IMAGE_TO_CODE}", json={"image": image, "candidates": 1},
                   timeout=httpx.Timeout(60, read=3.0))
    assert _wait_for(lambda: _cancelled(service, "ImageToCode") == before + 1, NOTICED_WITHIN_S), \
        f"the call still ran {NOTICED_WITHIN_S} s after the client left"
    # The gateway records a client that left as 499, not as its own failure (500).
    statuses = {status: _gateway_requests(gateway, status) for status in ("499", "500")}
    assert statuses["499"] >= 1 and statuses["500"] == 0, statuses


def _gateway_requests(gateway: str, status: str) -> float:
    return sample_total(scrape(f"{gateway}/metrics"), "percept_gateway_requests_total",
                        {"route": IMAGE_TO_CODE, "status": status}) or 0.0
