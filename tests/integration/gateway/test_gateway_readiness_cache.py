"""The request path makes no readiness call: readiness is cached (gateway/readiness.py).

The gateway runs in-process here (FastAPI's TestClient, real Triton behind it) so the
Triton client's RPCs can be counted: the real client class is wrapped, every call still
goes to the real server.
"""
from __future__ import annotations

import base64
from collections import Counter

import pytest
import tritonclient.grpc.aio as grpcclient
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.integration.gateway.support import png

REQUESTS = 5
RPCS = ("infer", "is_model_ready", "is_server_ready", "get_model_config")


@pytest.fixture()
def rpc_calls(monkeypatch):
    calls = Counter()
    for name in RPCS:
        original = getattr(grpcclient.InferenceServerClient, name)

        async def counted(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(grpcclient.InferenceServerClient, name, counted)
    return calls


def _upstream_count(outcome: str = "ok") -> float:
    value = REGISTRY.get_sample_value("percept_gateway_upstream_duration_seconds_count",
                                      {"model": "tokenfd_locate", "outcome": outcome})
    return value or 0.0


def test_locate_requests_make_no_readiness_rpc(triton_server, rpc_calls):
    app = create_app(GatewaySettings.from_env(triton_url=triton_server.grpc_url))
    body = {"image": base64.b64encode(png(64, 64, seed=9)).decode(), "query": "total", "heatmap_format": "none"}
    with TestClient(app) as http:
        histogram_before = _upstream_count()
        for _ in range(REQUESTS):
            response = http.post("/v1/text/locate", json=body)
            assert response.status_code == 200, response.text
        assert rpc_calls["infer"] == REQUESTS
        assert rpc_calls["is_model_ready"] == 0 and rpc_calls["is_server_ready"] == 0
        assert rpc_calls["get_model_config"] == 1  # name and id, fetched once and cached

        # Probes do ask Triton, and those calls stay out of the upstream-latency histogram.
        for _ in range(3):
            assert http.get("/readyz").status_code == 200
            assert http.get("/v1/models").status_code == 200
        assert rpc_calls["is_model_ready"] > 0
        assert _upstream_count() - histogram_before == REQUESTS
        checks = REGISTRY.get_sample_value("percept_gateway_upstream_checks_total", {"kind": "model_ready"})
        assert checks is not None and checks >= rpc_calls["is_model_ready"]
