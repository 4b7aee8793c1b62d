"""The OpenAI error shape of the chat route (gateway/openai_errors.py), in-process: what cannot
reach Triton (auth, validation, media type) is answered before any upstream call, so no Triton
is needed; the other routes keep the platform's shape."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.openai_errors import openai_error_body, openai_status
from gateway.settings import GatewaySettings
from services.common.errors import ErrorCode, PerceptError

CHAT = "/v1/chat/completions"


@pytest.mark.parametrize("code, status, kind", [
    (ErrorCode.INVALID_REQUEST, 400, "invalid_request_error"), (ErrorCode.INVALID_IMAGE, 400, "invalid_request_error"),
    (ErrorCode.PAYLOAD_TOO_LARGE, 400, "invalid_request_error"), (ErrorCode.UNAUTHORIZED, 401, "authentication_error"),
    (ErrorCode.UNKNOWN_MODEL, 404, "not_found_error"), (ErrorCode.RESOURCE_EXHAUSTED, 429, "rate_limit_error"),
    (ErrorCode.UPSTREAM_UNAVAILABLE, 503, "server_error"), (ErrorCode.INTERNAL, 500, "server_error"),
])
def test_statuses_the_openai_client_maps(code, status, kind):
    error = PerceptError(code, "m", details={"param": "model"})
    assert openai_status(error) == status
    assert openai_error_body(error) == {"message": "m", "type": kind, "param": "model", "code": code.value}


@pytest.fixture()
def http():
    with TestClient(create_app(GatewaySettings.from_env(api_keys=("k",), max_body_bytes=4096))) as client:
        yield client


def _openai_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code
    return error


def test_errors_before_any_upstream_call_are_in_openai_shape(http):
    key = {"Authorization": "Bearer k"}
    _openai_error(http.post(CHAT, json={}), 401, "unauthorized")
    error = _openai_error(http.post(CHAT, json={"model": "m"}, headers=key), 400, "invalid_request")
    assert error["param"] == "messages"
    _openai_error(http.post(CHAT, content=b"{", headers={**key, "content-type": "application/json"}), 400,
                  "invalid_request")
    _openai_error(http.post(CHAT, content=b"x", headers={**key, "content-type": "text/plain"}), 400,
                  "unsupported_media_type")
    _openai_error(http.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": "x" * 5000}]},
                            headers=key), 400, "payload_too_large")
    _openai_error(http.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2},
                            headers=key), 400, "invalid_request")


def test_other_routes_keep_the_platform_shape(http):
    response = http.post("/v1/documents/vqa", json={"question": "q"}, headers={"Authorization": "Bearer k"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert "request_id" in response.json()["error"]  # the platform's shape, not OpenAI's
    assert http.get("/v1/models").json()["error"]["code"] == "unauthorized"
