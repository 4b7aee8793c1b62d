"""The gateway as a real uvicorn process in front of the real tritonserver."""
from __future__ import annotations

import httpx
import pytest

from tests.integration.gateway.support import running_gateway


@pytest.fixture(scope="session")
def gateway_url(triton_server):
    with running_gateway(triton_server.grpc_url) as url:
        yield url


@pytest.fixture()
def client(gateway_url):
    with httpx.Client(base_url=gateway_url, timeout=60) as http:
        yield http
