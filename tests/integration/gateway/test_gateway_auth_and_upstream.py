"""Optional API-key auth, and the answers when Triton is down."""
from __future__ import annotations

import base64

import httpx

from services.common.net import find_free_ports
from tests.integration.gateway.support import png, running_gateway

BODY = {"image": base64.b64encode(png(64, 64)).decode(), "query": "x", "heatmap_format": "none"}


def test_api_key_auth_when_configured(triton_server):
    with running_gateway(triton_server.grpc_url, PERCEPT_API_KEYS="k1,k2") as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        for path in ("/v1/models",):
            denied = http.get(path)
            assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
        assert http.post("/v1/text/locate", json=BODY).status_code == 401
        assert http.post("/v1/text/locate", json=BODY, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.post("/v1/text/locate", json=BODY, headers={"Authorization": "Bearer k2"}).status_code == 200
        assert http.get("/v1/models", headers={"X-API-Key": "k1"}).status_code == 200
        # probes and scrapers carry no key
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        assert http.get("/metrics").status_code == 200


def test_triton_unreachable_gives_503_with_retry_after():
    (closed_port,) = find_free_ports(1)
    with running_gateway(f"127.0.0.1:{closed_port}", PERCEPT_GATEWAY_TRITON_RETRIES="1") as url, \
            httpx.Client(base_url=url, timeout=60) as http:
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "upstream_unavailable"
        assert int(ready.headers["retry-after"]) >= 1
        response = http.post("/v1/text/locate", json=BODY)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "upstream_unavailable"
        assert int(response.headers["retry-after"]) >= 1
        assert http.get("/healthz").status_code == 200  # liveness does not depend on Triton
        metrics = http.get("/metrics").text
        assert 'outcome="upstream_unavailable"' in metrics
