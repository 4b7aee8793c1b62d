"""Document VQA with `stream: true`, read RAW line by line with httpx, in front of the real
tritonserver serving the real `tokenvl` model (the tiny seeded fixture: its answers are noise, but
greedy decoding makes them repeatable). Checked: the `delta` events joined are the answer the
route gives without `stream`; the last event is the `result` (the non-streamed body) and nothing
follows; a refused request is still a typed 4xx, not a stream; a client that leaves mid-stream
stops the generation in Triton (the model's in-flight gauge and cancelled counter)."""
from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.integration.gateway.support import (
    VQA,
    assert_leaving_cancelled,
    png,
    running_gateway,
    tokenvl_cancelled,
    tokenvl_in_flight,
    tokenvl_settled,
    truncated_png,
)
from tests.unit.gateway.pdf_samples import corrupt_pdf, pdf_with_pages


@pytest.fixture(scope="module")
def gateway(triton_server):
    with running_gateway(triton_server.grpc_url, PERCEPT_GATEWAY_PDF_DPI="36") as url:
        yield url


@pytest.fixture()
def http(gateway):
    with httpx.Client(base_url=gateway, timeout=120) as client:
        yield client


def _streamed(http: httpx.Client, **request) -> tuple[list[str], list[tuple[str, dict]]]:
    """The raw lines of a streamed answer and its events as (event name, data), checking the framing:
    every event is an `event:` line, one `data:` line whose `type` repeats the name, and a blank line."""
    with http.stream("POST", VQA, **request) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = list(response.iter_lines())
    assert lines and len(lines) % 3 == 0, lines
    events = []
    for kind, data, blank in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        assert kind.startswith("event: ") and data.startswith("data: ") and blank == "", (kind, data, blank)
        name, payload = kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))
        assert payload.pop("type") == name
        events.append((name, payload))
    return lines, events


FIRST, SECOND = png(120, 80, seed=1), png(64, 96, seed=2)
# The same greedy question, as a form with page images and as JSON with a PDF.
REQUESTS = {
    "form-images": lambda stream: {
        "data": {"question": "What is the total?", "max_tokens": "12", **({"stream": "true"} if stream else {})},
        "files": [("images", ("a.png", FIRST, "image/png")), ("images", ("b.png", SECOND, "image/png"))]},
    "json-pdf": lambda stream: {"json": {
        "question": "Which page is this?", "max_tokens": 12, "temperature": 0, "pages": "2",
        "pdf": base64.b64encode(pdf_with_pages(2, (288, 144))).decode(), **({"stream": True} if stream else {})}},
}


@pytest.mark.parametrize("shape", REQUESTS)
def test_the_streamed_text_is_the_answer_and_the_result_ends_the_stream(http, shape):
    whole = http.post(VQA, **REQUESTS[shape](False))
    assert whole.status_code == 200, whole.text
    expected = whole.json()

    lines, events = _streamed(http, **REQUESTS[shape](True))
    names = [name for name, _ in events]
    assert names[-1] == "result" and names.count("result") == 1, names
    assert lines[-3].startswith("event: result") and lines[-1] == ""  # the last event, and nothing after it
    deltas = [payload["text"] for name, payload in events[:-1]]
    assert set(names[:-1]) == {"delta"} and len(deltas) >= 2, names  # the answer came in pieces
    assert all(deltas)
    result = events[-1][1]
    assert "".join(deltas) == result["answer"] == expected["answer"]  # greedy: the same answer either way
    assert set(result) == set(expected)  # the same body as without `stream`
    for field in ("question", "finish_reason", "pages", "usage", "model"):
        assert result[field] == expected[field], field
    timings = result["timings"]
    assert 0 < timings["time_to_first_token_s"] <= timings["generation_s"] <= timings["total_s"]


@pytest.mark.parametrize("request_, status, code", [
    ({"files": {"pdf": ("c.pdf", corrupt_pdf(), "application/pdf")}}, 422, "invalid_pdf"),  # the gateway's intake
    ({"files": [("images", (f"{i}.png", png(16, 16, seed=i), "image/png")) for i in range(5)]},
     422, "too_many_images"),  # the model's max_images (4), checked by the route once it knows the model
    ({"files": {"images": ("t.png", truncated_png(), "image/png")}},
     422, ("truncated_image", "invalid_image")),  # found by the model's one full decode: before the first event
])
def test_a_refused_streamed_request_is_a_typed_error_not_a_stream(http, triton_server, request_, status, code):
    response = http.post(VQA, data={"question": "What is it?", "max_tokens": "4", "stream": "true"}, **request_)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] in ((code,) if isinstance(code, str) else code)
    assert tokenvl_settled(triton_server) == 0


def test_stream_in_json_is_a_boolean(http):
    response = http.post(VQA, json={"question": "What?", "stream": "true",
                                    "images": [base64.b64encode(FIRST).decode()]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request", response.text


def test_a_client_that_leaves_mid_stream_cancels_the_generation(gateway, triton_server):
    before = tokenvl_cancelled(triton_server)
    with httpx.Client(base_url=gateway, timeout=120) as client:
        with client.stream("POST", VQA, data={"question": "Describe everything.", "max_tokens": "2000",
                                              "temperature": "1.0", "seed": "1", "stream": "true"},
                           files={"images": ("p.png", png(96, 64), "image/png")}) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert next(lines) == "event: delta"  # the answer streams ...
            assert tokenvl_in_flight(triton_server) >= 1  # ... and so does the generation
        # leaving the block closes the connection mid-stream
    assert_leaving_cancelled(gateway, triton_server, before, "vqa")
