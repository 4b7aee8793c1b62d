"""The STEM settings and what the OpenAPI document promises for the STEM routes (in-process; no
upstream is called: the bad inputs here are answered before the gateway would ask the service)."""
from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import GatewaySettings
from percept_sandbox import settings as sandbox_settings
from services.codeperception import settings as codeperception_settings
from services.common import limits
from services.common.net import find_free_ports
from services.common.settings import SettingsError
from tests.integration.gateway.support import png


@pytest.fixture(scope="module")
def http():
    with TestClient(create_app(GatewaySettings.from_env())) as client:
        yield client


def test_caps_are_the_shared_limits_the_service_reads_too():
    settings = GatewaySettings.from_env()
    assert settings.max_code_bytes == limits.MAX_CODE_BYTES.default == sandbox_settings.MAX_CODE_BYTES.default
    assert settings.max_candidates == limits.MAX_CANDIDATES.default
    assert settings.max_refine_renders == limits.MAX_REFINE_RENDERS.default
    assert settings.codeperception_url == codeperception_settings.URL.default


@pytest.mark.parametrize("name,value", [("PERCEPT_CODEPERCEPTION_URL", "no-port"),
                                        ("PERCEPT_MAX_CODE_BYTES", "0"),
                                        ("PERCEPT_MAX_CANDIDATES", "-1"),
                                        ("PERCEPT_GATEWAY_MAX_CANDIDATES", "-1"),  # a deprecated name, still read
                                        ("PERCEPT_GATEWAY_CODEPERCEPTION_TIMEOUT_S", "nan")])
def test_bad_values_raise_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        GatewaySettings.from_env()


def test_a_bad_service_url_stops_the_process_with_every_bad_value_named():
    (port,) = find_free_ports(1)
    env = {**os.environ, "PERCEPT_GATEWAY_PORT": str(port), "PERCEPT_CODEPERCEPTION_URL": "no-port",
           "PERCEPT_GATEWAY_TRITON_TIMEOUT_S": "-1"}
    result = subprocess.run([sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "PERCEPT_CODEPERCEPTION_URL" in result.stderr and "PERCEPT_GATEWAY_TRITON_TIMEOUT_S" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_document_states_the_stem_limits(http):
    document = http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    settings = GatewaySettings.from_env()
    for name in ("ImageToCodeJsonRequest", "ImageToCodeMultipartRequest"):
        assert schemas[name]["properties"]["candidates"]["maximum"] == settings.max_candidates
        refine = schemas[name]["properties"]["refine_renders"]
        number = refine["anyOf"][0] if "anyOf" in refine else refine   # JSON may send null; a form leaves it out
        assert number["maximum"] == settings.max_refine_renders
    assert schemas["RenderJsonRequest"]["properties"]["code"]["maxLength"] == settings.max_code_bytes
    assert schemas["ScoreMultipartRequest"]["properties"]["reference_image"]["format"] == "binary"
    stream = document["paths"]["/v1/stem/image-to-code"]["post"]["responses"]["200"]["content"]
    assert set(stream) == {"application/json", "text/event-stream"}
    for path in ("/v1/stem/image-to-code", "/v1/stem/render", "/v1/stem/score"):
        operation = document["paths"][path]["post"]
        assert "429" in operation["responses"] and "503" in operation["responses"]


def test_limits_follow_the_settings_not_a_constant():
    """A lower cap set at start-up is the cap enforced (and the one the document states)."""
    settings = GatewaySettings.from_env(max_code_bytes=100, max_candidates=2, max_refine_renders=5)
    with TestClient(create_app(settings)) as http:
        too_long = http.post("/v1/stem/render", json={"code": "x" * 101})
        assert too_long.status_code == 413 and too_long.json()["error"]["details"]["max_bytes"] == 100
        # Multi-byte characters count in bytes: 50 characters, 125 bytes.
        assert http.post("/v1/stem/render", json={"code": "é€" * 25}).status_code == 413
        too_many = http.post("/v1/stem/image-to-code", json={
            "image": base64.b64encode(png(8, 8)).decode(), "candidates": 3})
        assert too_many.status_code == 400 and too_many.json()["error"]["details"]["max_candidates"] == 2
        too_long_a_search = http.post("/v1/stem/image-to-code", json={
            "image": base64.b64encode(png(8, 8)).decode(), "refine_renders": 6})
        assert too_long_a_search.status_code == 400
        assert too_long_a_search.json()["error"]["details"]["max_refine_renders"] == 5
        document = http.get("/openapi.json").json()
    assert document["components"]["schemas"]["RenderJsonRequest"]["properties"]["code"]["maxLength"] == 100
