"""Document VQA through the gateway, in front of the real tritonserver serving the real `tokenvl`
model (the tiny seeded fixture: answers are noise; checked are the pages read, the usage, the
timings and the typed refusals). PDFs are made by the test: pypdfium2 writes the good ones, the
corrupt and encrypted ones are written by hand (tests/unit/gateway/pdf_samples.py)."""
from __future__ import annotations

import base64
import io
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from services.models.tokenvl.config import TOKENS_PER_TILE
from services.triton import generation as contract
from tests.integration.gateway.support import (
    VQA,
    png,
    running_gateway,
    tokenvl_cancelled,
    tokenvl_in_flight,
    tokenvl_settled,
    truncated_png,
)
from tests.unit.gateway.pdf_samples import corrupt_pdf, encrypted_pdf, pdf_with_pages

QUESTION = {"question": "What is the total?", "max_tokens": "6"}


@pytest.fixture(scope="module")
def gateway(triton_server):
    with running_gateway(triton_server.grpc_url, PERCEPT_GATEWAY_MAX_PDF_PAGES="3", PERCEPT_GATEWAY_PDF_DPI="36",
                         PERCEPT_GATEWAY_MAX_PDF_BYTES="200000") as url:
        yield url


@pytest.fixture()
def http(gateway):
    with httpx.Client(base_url=gateway, timeout=120) as client:
        yield client


def _blank(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(buffer, format="PNG")
    return buffer.getvalue()


def _answered(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    usage, timings = body["usage"], body["timings"]
    assert body["finish_reason"] in ("stop", "length") and isinstance(body["answer"], str)
    assert usage["completion_tokens"] >= 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > TOKENS_PER_TILE * len(body["pages"])  # every page reached the model
    assert body["model"]["triton_model"] == contract.TOKENVL_MODEL
    assert 0 < timings["time_to_first_token_s"] <= timings["generation_s"] <= timings["total_s"]
    return body


def test_page_images_in_a_form_and_in_json(http):
    first, second = png(120, 80, seed=1), png(64, 96, seed=2)
    form = _answered(http.post(VQA, data=QUESTION, files=[("images", ("a.png", first, "image/png")),
                                                          ("images", ("b.png", second, "image/png"))]))
    assert [(p["index"], p["source"], p["upload"], p["width"], p["height"]) for p in form["pages"]] == [
        (0, "image", 0, 120, 80), (1, "image", 1, 64, 96)]
    as_json = _answered(http.post(VQA, json={"question": QUESTION["question"], "max_tokens": 6, "images": [
        base64.b64encode(first).decode(), base64.b64encode(second).decode()]}))
    assert as_json["answer"] == form["answer"]  # greedy, same input: same answer either way
    assert as_json["usage"] == form["usage"]


def test_selected_pdf_pages_are_rendered_and_read_in_order(http):
    body = _answered(http.post(VQA, data={**QUESTION, "pages": "3,1"},
                               files={"pdf": ("doc.pdf", pdf_with_pages(4, (288, 144)), "application/pdf")}))
    # 36 dpi: half a point per pixel
    assert [(p["source"], p["page"], p["width"], p["height"]) for p in body["pages"]] == [
        ("pdf", 3, 144, 72), ("pdf", 1, 144, 72)]
    assert body["timings"]["intake_s"] > 0


@pytest.mark.parametrize("files, data, status, code", [
    ({"pdf": ("c.pdf", corrupt_pdf(), "application/pdf")}, {}, 422, "invalid_pdf"),
    ({"pdf": ("e.pdf", encrypted_pdf(), "application/pdf")}, {}, 422, "encrypted_pdf"),
    ({"pdf": ("n.pdf", b"not a pdf", "application/pdf")}, {}, 422, "invalid_pdf"),
    ({"pdf": ("m.pdf", pdf_with_pages(4), "application/pdf")}, {}, 422, "too_many_pages"),
    ({"pdf": ("m.pdf", pdf_with_pages(2), "application/pdf")}, {"pages": "2-5"}, 422, "pages_out_of_range"),
    ({"pdf": ("m.pdf", pdf_with_pages(2), "application/pdf")}, {"pages": "two"}, 400, "invalid_request"),
    ({"pdf": ("b.pdf", b"%PDF-1.4\n" + b"0" * 200_000, "application/pdf")}, {}, 413, "payload_too_large"),
    ({"images": ("a.png", b"junk", "image/png")}, {}, 422, "invalid_image"),
    ({"images": ("a.png", png(8, 8), "image/png"), "pdf": ("d.pdf", pdf_with_pages(1), "application/pdf")},
     {}, 400, "invalid_request"),
])
def test_bad_documents_are_typed_refusals(http, files, data, status, code):
    response = http.post(VQA, data={**QUESTION, **data}, files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_limits_that_need_the_model(http, triton_server):
    images = [("images", (f"{i}.png", png(16, 16, seed=i), "image/png")) for i in range(5)]
    # The model's max_images (4) is below the gateway's 8, which the document states (maxItems): five images
    # are a request the schema takes, so the refusal is 422 (content), never 400 (schema).
    schemas = http.get("/openapi.json").json()["components"]["schemas"]
    assert all(schemas[name]["properties"]["images"]["maxItems"] >= 5
               for name in ("VqaJsonRequest", "VqaMultipartRequest"))
    refused = http.post(VQA, data=QUESTION, files=images)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "too_many_images"
    # Three pages of 4x3 tiles and a thumbnail each would be more visual tokens than the model's
    # context: the model lowers every page's tile cap until they fit (the over-long prompt that
    # cannot fit is refused in test_chat_bad_input.py and tests/integration/tokenvl).
    pages = [("images", (f"{i}.png", _blank(1792, 1344), "image/png")) for i in range(3)]
    fitted = http.post(VQA, data=QUESTION, files=pages)
    assert fitted.status_code == 200, fitted.text
    assert 3 * 256 < fitted.json()["usage"]["prompt_tokens"] < 3 * 13 * 256
    truncated = http.post(VQA, data=QUESTION, files={"images": ("t.png", truncated_png(), "image/png")})
    assert truncated.status_code == 422, truncated.text  # found by the model's one full decode
    assert truncated.json()["error"]["code"] in ("truncated_image", "invalid_image")
    assert tokenvl_settled(triton_server) == 0  # nothing left running


def test_a_client_that_leaves_before_the_answer_cancels_the_generation(gateway, triton_server):
    # The request goes out on a raw socket so the client leaves exactly when the generation is seen
    # running (a read timeout could fire before a busy machine had even reached the model).
    before = tokenvl_cancelled(triton_server)
    request = httpx.Request("POST", f"{gateway}{VQA}", data={
        "question": "Describe everything.", "max_tokens": "2000", "temperature": "1.0", "seed": "1"},
        files={"images": ("p.png", png(96, 64), "image/png")})
    body = request.read()
    url = urlsplit(gateway)
    head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items() if name.lower() != "host")
    with socket.create_connection((url.hostname, url.port), timeout=30) as client:
        client.sendall(f"POST {VQA} HTTP/1.1\r\nHost: {url.netloc}\r\n{head}\r\n".encode() + body)
        deadline = time.monotonic() + 30
        while not tokenvl_in_flight(triton_server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tokenvl_in_flight(triton_server) >= 1  # the model is generating ...
    # ... and the client has gone before the answer
    assert not tokenvl_settled(triton_server)
    assert tokenvl_cancelled(triton_server) == before + 1  # stopped, not finished
