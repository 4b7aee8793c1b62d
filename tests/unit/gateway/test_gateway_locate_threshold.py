"""Which threshold a locate request gets: the request's, else an explicitly set PERCEPT_BOX_THRESHOLD,
else the one the served checkpoint records (tokenfd_locate's config parameter, read once with the
model's info), else upstream's 0.2.

In-process, with a stand-in for Triton that serves fixed maps and model info (as
test_gateway_request_path.py does); the integration suite runs the same path against a real
Triton serving a checkpoint with a recorded threshold (test_gateway_locate_threshold.py there).
"""
from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.dependencies import get_settings, get_triton
from gateway.settings import GatewaySettings
from gateway.triton_client import LocateOutput, ModelInfo, _threshold
from services.models.tokenfd.config import UPSTREAM_THRESHOLD
from tests.integration.gateway.support import png

# Maps of uniform noise: the regions above 0.2 and above 0.9 differ, so the threshold applied shows.
SIMILARITY = np.random.default_rng(0).random((2, 128, 128), dtype=np.float32)


class StandInTriton:
    def __init__(self, recorded: float | None) -> None:
        self.recorded = recorded
        self.info_calls = 0

    async def locate(self, image, query, *, max_tiles, request_id):
        return LocateOutput(similarity=SIMILARITY, token_ids=[5, 6], token_texts=["a", "b"], grid=(1, 1),
                            num_tiles=1, image_size=(300, 200))

    async def model_info(self, name):
        self.info_calls += 1
        return ModelInfo(name, "stand-in", "0", self.recorded)


def _locate(settings: GatewaySettings, recorded: float | None, **fields) -> dict:
    app = create_app(settings)
    triton = StandInTriton(recorded)
    app.dependency_overrides[get_triton] = lambda: triton
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as http:
        response = http.post("/v1/text/locate", files={"image": ("a.png", png(300, 200), "image/png")},
                             data={"query": "ab", "heatmap_format": "none", "max_boxes": "500", **fields})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("requested, setting, recorded, expected", [
    ("0.6", 0.1, 0.4, 0.6),                       # the request's wins over everything
    (None, 0.1, 0.4, 0.1),                        # then an explicitly set PERCEPT_BOX_THRESHOLD
    (None, UPSTREAM_THRESHOLD, 0.9, UPSTREAM_THRESHOLD),  # set to upstream's value is still set
    (None, None, 0.9, 0.9),                       # then the checkpoint's recorded one
    (None, None, None, UPSTREAM_THRESHOLD),       # then upstream's (official checkpoints record none)
    ("-0.5", None, None, -0.5),
])
def test_threshold_precedence(requested, setting, recorded, expected):
    fields = {} if requested is None else {"threshold": requested}
    body = _locate(GatewaySettings.from_env(box_threshold=setting), recorded, **fields)
    assert body["threshold"] == expected
    # ... and it is the threshold applied, not only the one reported
    for token in body["tokens"]:
        assert token["boxes"] and all(box["score"] > expected for box in token["boxes"])
        grid = SIMILARITY[token["index"]]
        assert token["max_similarity"] == pytest.approx(float(grid.max()))


def test_the_applied_threshold_changes_the_answer():
    upstream = _locate(GatewaySettings.from_env(box_threshold=None), None)
    recorded = _locate(GatewaySettings.from_env(box_threshold=None), 0.9)
    assert upstream["threshold"] == UPSTREAM_THRESHOLD and recorded["threshold"] == 0.9
    # above 0.2 nearly every noise cell joins one region; above 0.9 they are many small ones
    assert len(recorded["tokens"][0]["boxes"]) > len(upstream["tokens"][0]["boxes"])
    assert min(b["score"] for b in recorded["tokens"][0]["boxes"]) > 0.9


def test_the_setting_is_unset_by_default_and_parsed_when_set(monkeypatch):
    monkeypatch.delenv("PERCEPT_BOX_THRESHOLD", raising=False)
    assert GatewaySettings.from_env().box_threshold is None
    assert GatewaySettings.from_env().locate_threshold(None) == UPSTREAM_THRESHOLD
    assert GatewaySettings.from_env().locate_threshold(0.45) == 0.45
    monkeypatch.setenv("PERCEPT_BOX_THRESHOLD", "0.25")
    assert GatewaySettings.from_env().box_threshold == 0.25
    assert GatewaySettings.from_env().locate_threshold(0.45) == 0.25


@pytest.mark.parametrize("parameter, expected", [
    ("0.35", 0.35), ("-1", -1.0), (None, None), ("", None), ("high", None), ("1.5", None), ("nan", None),
])
def test_the_recorded_threshold_parameter_is_read_leniently(parameter, expected):
    # The builder writes only cosines; anything else (a hand-edited repository) falls back, never fails a request.
    assert _threshold(parameter) == expected
