"""The locate request path, in-process: the image is header-checked, never decoded.

Triton cannot run inside a unit test, so `get_triton` is overridden with a stand-in that
returns a fixed LocateOutput; the integration tests run the same path against the real
server. What is checked here is the gateway's own work: PIL's full decode
(ImageFile.load, which Image.convert and decode_image go through) is never called, so the
one decode happens in the Triton model that needs the pixels.
"""
from __future__ import annotations

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import ImageFile

from gateway.app import create_app
from gateway.dependencies import get_settings, get_triton
from gateway.settings import GatewaySettings
from gateway.triton_client import LocateOutput, ModelInfo
from services.common.images import decode_image
from tests.integration.gateway.support import png


class StandInTriton:
    def __init__(self) -> None:
        self.locate_calls = 0

    async def locate(self, image, query, *, max_tiles, request_id):
        self.locate_calls += 1
        similarity = np.random.default_rng(0).random((2, 128, 128), dtype=np.float32)
        return LocateOutput(similarity=similarity, token_ids=[5, 6], token_texts=["a", "b"], grid=(1, 1),
                            num_tiles=1, image_size=(300, 200))

    async def model_info(self, name):
        return ModelInfo(name, "stand-in", "0")


@pytest.fixture()
def full_decodes(monkeypatch):
    calls = []
    original = ImageFile.ImageFile.load

    def counted(self):
        calls.append(self.format)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return calls


@pytest.fixture()
def app_and_triton():
    app = create_app(GatewaySettings.from_env())
    triton = StandInTriton()
    app.dependency_overrides[get_triton] = lambda: triton
    return app, triton


def test_the_counter_sees_a_full_decode(full_decodes):
    decode_image(png(30, 20))  # so the assertion below can fail
    assert full_decodes and set(full_decodes) == {"PNG"}


@pytest.mark.parametrize("heatmap_format", ["png", "raw", "none"])
def test_locate_never_fully_decodes_the_image(app_and_triton, full_decodes, heatmap_format):
    app, triton = app_and_triton
    with TestClient(app) as http:
        json_answer = http.post("/v1/text/locate", json={
            "image": base64.b64encode(png(300, 200)).decode(), "query": "x", "heatmap_format": heatmap_format})
        form_answer = http.post("/v1/text/locate", files={"image": ("a.png", png(300, 200), "image/png")},
                                data={"query": "x", "heatmap_format": heatmap_format})
    assert json_answer.status_code == 200 and form_answer.status_code == 200, json_answer.text
    assert triton.locate_calls == 2
    assert full_decodes == []


def test_bad_images_are_answered_from_the_header_before_triton(app_and_triton, full_decodes):
    app, triton = app_and_triton
    with TestClient(app) as http:
        junk = http.post("/v1/text/locate", files={"image": ("a.png", b"not an image", "image/png")},
                         data={"query": "x"})
    assert junk.status_code == 422 and junk.json()["error"]["code"] == "invalid_image"
    assert triton.locate_calls == 0 and full_decodes == []


def test_settings_reach_handlers_through_depends():
    # Whether auth is on is decided when the app is built (the OpenAPI document states it); the
    # keys themselves reach the check through Depends, so an override replaces them.
    app = create_app(GatewaySettings.from_env(api_keys=("built-in",)))
    app.dependency_overrides[get_settings] = lambda: GatewaySettings.from_env(api_keys=("secret",))
    with TestClient(app) as http:
        denied = http.get("/v1/models", headers={"X-API-Key": "built-in"})
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"].startswith("Bearer")
        # Past the key check, the request reaches the handler (whose upstream is not running here).
        admitted = http.get("/v1/models", headers={"X-API-Key": "secret"})
        assert admitted.status_code != 401
