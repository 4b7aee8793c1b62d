"""Acceptance of the model-family registry: a throwaway third family, defined in this test's own
tree (thirdfamily/: a seeded Caesar key and a python-backend chat model), is named by
PERCEPT_MODEL_FAMILIES and nothing else changes. `make models`' builder builds it beside TokenFD,
a real tritonserver serves the repository, and a real gateway probes it on /readyz, lists it on
/v1/models and routes a chat request that names it to it. Without the variable, the same gateway
knows nothing of it, and with it but a Triton that does not serve it, /readyz's text domain is
not ready: what is checked comes from the registry."""
from __future__ import annotations

import json

import httpx
import pytest

from services.models.build_default import main as build_main
from services.triton.repository import MANIFEST
from tests.integration.gateway.support import running_gateway

from .thirdfamily import MODEL, NAME, TINY_NAME, WEIGHTS

FAMILIES = "tests.integration.families.thirdfamily"
DEAD = "127.0.0.1:1"  # nothing listens on port 1: no code perception here


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("third")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PERCEPT_MODEL_FAMILIES", FAMILIES)
        # TokenVL and CodePercept-mini left out to keep the build short; the CLI's skip flags are part of
        # what is tested.
        assert build_main(["--out", str(out), "--no-tokenvl", "--skip-family", "codepercept"]) == 0
    return out


@pytest.fixture(scope="module")
def triton(built, triton_stub_site):
    from services.triton.launcher import TritonServer

    with TritonServer(built / "model_repository", http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server


def test_the_build_picks_the_family_up(built):
    manifest = json.loads((built / "model_repository" / MANIFEST).read_text())
    assert set(manifest["families"]) == {"tokenfd", NAME}
    assert MODEL in manifest["models"] and not {"tokenvl", "codepercept"} & set(manifest["models"])
    key = json.loads((built / "export" / TINY_NAME / WEIGHTS).read_text())["key"]
    assert json.loads((built / "model_repository" / MODEL / "1" / WEIGHTS).read_text())["key"] == key


def test_readiness_listing_and_chat_reach_the_family(triton, built):
    key = json.loads((built / "export" / TINY_NAME / WEIGHTS).read_text())["key"]
    with running_gateway(triton.grpc_url, PERCEPT_MODEL_FAMILIES=FAMILIES, PERCEPT_CODEPERCEPTION_URL=DEAD) as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        ready = http.get("/readyz", params={"domain": "text"})
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"][MODEL] is True and ready.json()["checks"]["tokenfd_locate"] is True
        cards = {card["id"]: card for card in http.get("/v1/models").json()["data"]}
        card = cards[TINY_NAME]
        assert (card["task"], card["triton_model"], card["ready"]) == ("chat", MODEL, True)
        assert cards["tokenfd-tiny"]["task"] == "text-location"
        # Neither TokenVL (the configured chat model) nor CodePercept-mini is served here: the family's chat
        # model is the only one.
        assert [c["id"] for c in http.get("/v1/models").json()["data"] if c["task"] == "chat"] == [TINY_NAME]
        answer = http.post("/v1/chat/completions", json={
            "model": TINY_NAME, "max_tokens": 8, "messages": [{"role": "user", "content": "hello world"}]})
        assert answer.status_code == 200, answer.text
        shifted = "".join(chr((ord(c) - 97 + key) % 26 + 97) if c.isalpha() else c for c in "hello world")
        assert answer.json()["model"] == TINY_NAME
        assert answer.json()["choices"][0]["message"]["content"] == shifted


def test_without_the_registry_line_the_gateway_knows_nothing_of_it(triton):
    with running_gateway(triton.grpc_url, PERCEPT_CODEPERCEPTION_URL=DEAD) as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        assert MODEL not in http.get("/readyz", params={"domain": "text"}).json()["checks"]
        assert TINY_NAME not in {card["id"] for card in http.get("/v1/models").json()["data"]}
        refused = http.post("/v1/chat/completions", json={
            "model": TINY_NAME, "max_tokens": 8, "messages": [{"role": "user", "content": "hello"}]})
        # Not routed to it: only the configured chat model (TokenVL, not served here) might answer to
        # the name, so the answer is that model's 503, not the family's stream.
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "upstream_unavailable"


def test_a_probed_family_model_triton_does_not_serve_keeps_text_unready(triton_server):
    """The session's Triton serves `make models`' default families only."""
    with running_gateway(triton_server.grpc_url, PERCEPT_MODEL_FAMILIES=FAMILIES,
                         PERCEPT_CODEPERCEPTION_URL=DEAD) as url, httpx.Client(base_url=url, timeout=60) as http:
        ready = http.get("/readyz", params={"domain": "text"})
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["checks"][MODEL] is False
        assert TINY_NAME not in {card["id"] for card in http.get("/v1/models").json()["data"]}


def test_a_module_that_is_no_family_stops_the_build(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PERCEPT_MODEL_FAMILIES", "tests.integration.families.no_such_family")
    assert build_main(["--out", str(tmp_path / "out")]) == 2
    assert "no_such_family" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
