"""The threshold and the decoding travel with the model, end to end: a checkpoint recording a name, a
calibrated threshold and a decoding (tests/conftest.py: tokenfd_recorded_build) is exported, built into a
repository and served by a real Triton; a real gateway in front of it uses the recorded threshold for a
locate request that names none, reads the maps with the recorded decoding, and names the checkpoint on
/v1/models and /readyz. The tiny fixture, like an official checkpoint, records none: its gateway keeps
upstream's 0.2 and upstream's reading."""
from __future__ import annotations

import httpx
import pytest

from services.models.tokenfd.config import UPSTREAM_THRESHOLD
from services.models.tokenfd.query_matches import UPSTREAM
from services.models.tokenfd.triton import contract
from tests.conftest import RECORDED_DECODING, RECORDED_NAME, RECORDED_THRESHOLD
from tests.integration.gateway.support import png, running_gateway


@pytest.fixture(scope="module")
def recorded_triton(tokenfd_recorded_build, triton_stub_site):
    from services.triton.launcher import TritonServer

    with TritonServer(tokenfd_recorded_build.repository, http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server


@pytest.fixture(scope="module")
def recorded_client(recorded_triton):
    with running_gateway(recorded_triton.grpc_url) as url, httpx.Client(base_url=url, timeout=60) as http:
        yield http


def _locate(client, **fields) -> dict:
    response = client.post("/v1/text/locate", files={"image": ("page.png", png(600, 400), "image/png")},
                           data={"query": "invoice total", "heatmap_format": "none", "max_boxes": "50", **fields})
    assert response.status_code == 200, response.text
    return response.json()


def _locate_card(client) -> dict:
    response = client.get("/v1/models")
    assert response.status_code == 200, response.text
    (card,) = [c for c in response.json()["data"] if c["triton_model"] == contract.TOKENFD_LOCATE]
    return card


def test_a_request_without_threshold_uses_the_recorded_one(recorded_client):
    body = _locate(recorded_client)
    assert body["threshold"] == RECORDED_THRESHOLD
    assert body["model"]["name"] == RECORDED_NAME
    for token in body["tokens"]:
        assert all(box["score"] > RECORDED_THRESHOLD for box in token["boxes"])
    # the request's own threshold still wins
    assert _locate(recorded_client, threshold="-0.25")["threshold"] == -0.25


def _below_the_share(body: dict, share: float) -> int:
    """Boxes whose peak is not above `share` of their token map's peak (the maps here are positive)."""
    return sum(box["score"] <= share * token["max_similarity"] for token in body["tokens"] for box in token["boxes"])


def test_the_maps_are_read_with_the_recorded_decoding(recorded_client, client):
    share = RECORDED_DECODING["peak_share"]
    body = _locate(recorded_client, threshold="-0.25")   # a low threshold: the cut is the decoding's
    assert body["decoding"] == RECORDED_DECODING
    assert all(token["max_similarity"] > 0 for token in body["tokens"])
    assert body["tokens"][0]["boxes"] and _below_the_share(body, share) == 0
    masses = [match["mass"] for match in body["matches"]]
    assert masses == sorted(masses, reverse=True)        # ranked by mass, as recorded
    # the same request to the fixture that records none: upstream's reading keeps the weaker boxes
    upstream = _locate(client, threshold="-0.25")
    assert upstream["decoding"] == UPSTREAM.to_json()
    assert _below_the_share(upstream, share) > 0
    assert _locate_card(recorded_client)["decoding"] == RECORDED_DECODING
    assert _locate_card(client)["decoding"] == UPSTREAM.to_json()


def test_models_and_readiness_name_the_served_checkpoint(recorded_client):
    card = _locate_card(recorded_client)
    assert card["id"] == card["name"] == RECORDED_NAME
    assert card["task"] == "text-location" and card["ready"] is True
    assert card["threshold"] == RECORDED_THRESHOLD
    ready = recorded_client.get("/readyz", params={"domain": "text"})
    assert ready.status_code == 200, ready.text
    assert ready.json()["models"] == {contract.TOKENFD_LOCATE: RECORDED_NAME}


def test_an_explicit_setting_wins_over_the_recorded_threshold(recorded_triton):
    with running_gateway(recorded_triton.grpc_url, PERCEPT_BOX_THRESHOLD="0.2") as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        assert _locate(http)["threshold"] == 0.2          # set to upstream's value: still set, still wins
        assert _locate_card(http)["threshold"] == 0.2


def test_a_checkpoint_recording_none_keeps_upstream_s_threshold(client):
    # The session's gateway serves the tiny fixture, written in the official layout without a record.
    body = _locate(client)
    assert body["threshold"] == UPSTREAM_THRESHOLD
    assert body["model"]["name"] == "tokenfd-tiny"
    assert _locate_card(client)["threshold"] == UPSTREAM_THRESHOLD
    assert client.get("/readyz", params={"domain": "text"}).json()["models"] == {
        contract.TOKENFD_LOCATE: "tokenfd-tiny"}
