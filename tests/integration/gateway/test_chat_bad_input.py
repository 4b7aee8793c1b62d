"""Chat completions that must be refused, and a client that leaves mid-stream, against the real
tritonserver serving the real `tokenvl` model. Each refusal is a typed 400/404 in OpenAI's error
shape, and no generation is left behind: the model's in-flight gauge (Triton's metrics page) is
back at 0, and a stream the client left is counted as cancelled by the model itself."""
from __future__ import annotations

import base64

import httpx
import pytest

from services.triton import generation as contract
from tests.integration.gateway.support import (
    assert_leaving_cancelled,
    png,
    png_header_only,
    running_gateway,
    tokenvl_cancelled,
    tokenvl_in_flight,
    tokenvl_settled,
)

CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def gateway(triton_server):
    with running_gateway(triton_server.grpc_url, PERCEPT_GATEWAY_MAX_IMAGES="2",
                         PERCEPT_GATEWAY_MAX_COMPLETION_TOKENS="4000") as url:
        yield url


@pytest.fixture()
def http(gateway):
    with httpx.Client(base_url=gateway, timeout=120) as client:
        yield client


def _image(data: bytes) -> dict:
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(data).decode()}}


def _chat(http, content, **fields) -> httpx.Response:
    return http.post(CHAT, json={"model": contract.TOKENVL_MODEL, "messages": [{"role": "user", "content": content}],
                                 **fields})



def _refused(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code, error
    return error


@pytest.mark.parametrize("content, code, param", [
    ([_image(b"not an image at all")], "invalid_image", "messages.0.content.0.image_url"),
    ([_image(png(8, 8)[:40])], "invalid_image", "messages.0.content.0.image_url"),
    ([_image(png_header_only(20_000, 20_000))], "image_too_large", "messages.0.content.0.image_url"),
    ([_image(png(8, 8))] * 3, "too_many_images", "messages"),
    ([{"type": "file", "file": {"file_id": "x"}}], "unsupported_content", "messages.0.content.0.type"),
    ("a literal <image> placeholder", "invalid_request", "messages.0.content"),
])
def test_bad_content_is_refused_before_the_model(http, content, code, param):
    assert _refused(_chat(http, content), 400, code)["param"] == param


def test_an_over_long_prompt_is_refused_by_the_model_as_context_length_exceeded(http, triton_server):
    error = _refused(_chat(http, "lorem ipsum dolor " * 4000, max_tokens=8), 400, "context_length_exceeded")
    assert "context" in error["message"]
    _refused(_chat(http, "lorem ipsum dolor " * 4000, max_tokens=8, stream=True), 400, "context_length_exceeded")
    assert tokenvl_settled(triton_server) == 0


def test_max_tokens_and_unknown_models(http):
    assert _refused(_chat(http, "hi", max_tokens=4001), 400, "invalid_request")["param"] == "max_tokens"
    _refused(_chat(http, "hi", max_tokens=3999, model="gpt-4o"), 404, "unknown_model")


def test_a_client_that_leaves_mid_stream_cancels_the_generation(gateway, triton_server):
    before = tokenvl_cancelled(triton_server)
    body = {"model": contract.TOKENVL_MODEL, "stream": True, "max_tokens": 3000, "temperature": 1.0, "seed": 1,
            "messages": [{"role": "user", "content": [_image(png(96, 64)), {"type": "text", "text": "Go on."}]}]}
    with httpx.Client(base_url=gateway, timeout=120) as client:
        with client.stream("POST", CHAT, json=body) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")  # the role chunk: the stream runs
            assert tokenvl_in_flight(triton_server) >= 1     # ... and so does the generation
        # leaving the block closes the connection mid-stream
    assert_leaving_cancelled(gateway, triton_server, before, "chat")
