"""STEM routes end to end: gateway -> code-perception service (reference backend) -> sandbox,
all real processes, on STEM-style programs of the repository. Triton is unreachable in this
gateway's configuration on purpose: the STEM routes must not need it."""
from __future__ import annotations

import base64
import io
import json
import time

import httpx
import pytest
from PIL import Image

from tests.integration.gateway.conftest import DEAD_TRITON
from tests.integration.gateway.stem_support import PROGRAMS, CodePerceptionProcess
from tests.integration.gateway.support import running_gateway
from tests.prometheus_text import sample_total, scrape

NAMES = [name.removesuffix(".py") for name in PROGRAMS]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _png_size(data_b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(data_b64))) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("name", NAMES)
def test_image_to_code_reproduces_the_image(stem, stem_client, name):
    image = stem.images()[name]
    response = stem_client.post("/v1/stem/image-to-code", json={"image": _b64(image), "candidates": 2, "seed": 0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fidelity"]["aggregate"] >= 0.99, body["fidelity"]
    assert set(body["fidelity"]["computed"]) >= {"ssim"} and body["fidelity"]["mode"] == "image_only"
    assert body["code"] == stem.code(name) and body["backend"] == "reference"
    assert [c["status"] for c in body["candidates"]] == ["ok", "ok"]
    assert body["caption"] and body["request_id"] == response.headers["x-request-id"]
    with Image.open(io.BytesIO(image)) as reference:
        assert _png_size(body["render_png_base64"]) == reference.size


def test_image_to_code_as_multipart(stem, stem_client):
    image = stem.images()[NAMES[0]]
    response = stem_client.post("/v1/stem/image-to-code", files={"image": ("figure.png", image, "image/png")},
                                data={"candidates": "1", "backend_options": "{}"})
    assert response.status_code == 200, response.text
    assert response.json()["fidelity"]["aggregate"] >= 0.99


def _events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        events.append((lines["event"], data))
    return events


def test_streaming_sends_progress_in_order_then_the_result(stem, stem_client):
    n = 3
    image = stem.images()[NAMES[1]]
    with stem_client.stream("POST", "/v1/stem/image-to-code",
                            json={"image": _b64(image), "candidates": n, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = _events(text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "result" and kinds.count("result") == 1 and set(kinds[:-1]) == {"progress"}
    stages = [data["stage"] for kind, data in events if kind == "progress"]
    assert stages[-2:] == ["scored", "best_chosen"]
    for index in range(n):  # each candidate: generated, then rendered
        mine = [data["stage"] for kind, data in events if kind == "progress" and data["candidate_index"] == index
                and data["stage"] in ("generated", "rendered")]
        assert mine == ["generated", "rendered"], (index, stages)
    rendered = [data for kind, data in events if kind == "progress" and data["stage"] == "rendered"]
    assert [d["completed"] for d in rendered] == list(range(1, n + 1)) and {d["total"] for d in rendered} == {n}
    result = events[-1][1]
    assert result["fidelity"]["aggregate"] >= 0.99 and len(result["candidates"]) == n


def test_render_returns_images_and_the_trace(stem, stem_client):
    response = stem_client.post("/v1/stem/render", json={"code": stem.code(NAMES[0]), "dpi": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["error"] is None
    (figure,) = body["images"]
    assert _png_size(figure["data_base64"]) == (figure["width"], figure["height"]) == (320, 240)  # 6.4x4.8 in
    trace = body["trace"]
    assert isinstance(trace, dict) and trace["figures"][0]["axes"], trace
    assert body["usage"]["wall_s"] > 0 and body["stdout"]["total_bytes"] == 0


def test_render_as_multipart_file_upload_and_svg(stem, stem_client):
    response = stem_client.post("/v1/stem/render", files={"code": ("plot.py", stem.code(NAMES[2]).encode())},
                                data={"format": "svg", "trace": "false"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["trace"] is None
    assert base64.b64decode(body["images"][0]["data_base64"]).lstrip().startswith(b"<?xml")


def test_what_a_program_does_is_a_status_not_an_error(stem_client):
    response = stem_client.post("/v1/stem/render", json={"code": "print('hi')\nraise ValueError('boom')\n"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "exec_error" and body["error"]["type"] == "ValueError"
    assert body["stdout"]["text"].strip() == "hi" and body["images"] == []


def test_score_of_identical_code(stem, stem_client):
    name = NAMES[3]
    response = stem_client.post("/v1/stem/score", json={
        "reference_image": _b64(stem.images()[name]), "reference_code": stem.code(name),
        "candidate_code": stem.code(name)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fidelity"]["aggregate"] >= 0.98 and body["fidelity"]["mode"] == "image_and_trace"
    assert body["candidate_status"] == "ok" and body["reference_status"] == "ok"
    assert "text_f1" in body["fidelity"]["computed"]


def test_score_tells_a_different_program_apart(stem, stem_client):
    """So the >= 0.98 above can fail: another program scores clearly lower."""
    response = stem_client.post("/v1/stem/score", json={
        "reference_image": _b64(stem.images()[NAMES[3]]), "candidate_code": stem.code(NAMES[0])})
    assert response.status_code == 200, response.text
    assert response.json()["fidelity"]["aggregate"] < 0.9


def test_readiness_is_per_domain(stem_client):
    """Triton is unreachable here: the STEM domain is ready, the text domain is not, the pod stays in."""
    whole = stem_client.get("/readyz")
    assert whole.status_code == 200 and whole.json()["status"] == "degraded"
    assert whole.json()["checks"]["codeperception"] is True and whole.json()["checks"]["triton"] is False
    assert stem_client.get("/readyz", params={"domain": "stem"}).status_code == 200
    text = stem_client.get("/readyz", params={"domain": "text"})
    assert text.status_code == 503 and "retry-after" in text.headers


def test_api_key_applies_to_the_stem_routes(stem):
    with running_gateway("127.0.0.1:1", PERCEPT_CODEPERCEPTION_URL=stem.codeperception_url,
                         PERCEPT_API_KEYS="k1") as url:
        body = {"code": stem.code(NAMES[0])}
        denied = httpx.post(f"{url}/v1/stem/render", json=body, timeout=60)
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
        allowed = httpx.post(f"{url}/v1/stem/render", json=body, headers={"X-API-Key": "k1"}, timeout=60)
        assert allowed.status_code == 200, allowed.text


def _counter(metrics_url: str, name: str, labels: str) -> float:
    return sample_total(scrape(metrics_url), name, labels) or 0.0


@pytest.mark.timeout(120)
def test_a_client_leaving_the_stream_cancels_the_call(stem):
    """The gateway passes the disconnect on: the service's ImageToCodeStream ends at once (its own
    metrics) and none of the 8 candidates' renders completes, instead of running for nobody."""
    finished = ("percept_codeperception_request_duration_seconds_count", 'rpc="ImageToCodeStream"')
    rendered_ok = ("percept_codeperception_render_duration_seconds_count", 'status="ok"')
    with CodePerceptionProcess(stem.sandbox.target, stem.dataset) as service, \
            running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=service.target) as gateway:
        body = {"image": _b64(stem.images()[NAMES[2]]), "candidates": 8, "stream": True}
        with httpx.Client(base_url=gateway, timeout=60) as http, \
                http.stream("POST", "/v1/stem/image-to-code", json=body) as response:
            assert response.status_code == 200
            assert next(response.iter_lines()) == "event: progress"
        # The connection is closed here, long before 8 candidates are rendered (about 2 s on 2 cores).
        deadline = time.monotonic() + 10
        while _counter(service.metrics_url, *finished) < 1:
            assert time.monotonic() < deadline, "the service's call did not end"
            time.sleep(0.1)
        time.sleep(3)  # what was not cancelled would have finished rendering by now
        assert _counter(service.metrics_url, *rendered_ok) == 0
