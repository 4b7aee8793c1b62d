"""The threshold travels with the model, end to end: a checkpoint recording a name and a calibrated
threshold (tests/conftest.py: tokenfd_recorded_build) is exported, built into a repository and served
by a real Triton; a real gateway in front of it uses the recorded threshold for a locate request that
names none, and names the checkpoint on /v1/models and /readyz. The tiny fixture, like an official
checkpoint, records none: its gateway keeps upstream's 0.2."""
from __future__ import annotations

import httpx
import pytest

from services.models.tokenfd.config import UPSTREAM_THRESHOLD
from services.models.tokenfd.triton import contract
from tests.conftest import RECORDED_NAME, RECORDED_THRESHOLD
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
                           data={"query": "invoice total", "heatmap_format": "none", **fields})
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
