"""The gateway as a real uvicorn process in front of the real tritonserver, and in front of the real
STEM chain (code-perception service and sandbox)."""
from __future__ import annotations

import httpx
import pytest

from tests.integration.gateway.support import running_gateway

DEAD_TRITON = "127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture(scope="session")
def gateway_url(triton_server):
    with running_gateway(triton_server.grpc_url) as url:
        yield url


@pytest.fixture()
def client(gateway_url):
    with httpx.Client(base_url=gateway_url, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
def stem():
    """Sandbox server + code-perception service (reference backend) + its dataset, real processes."""
    from tests.integration.gateway.stem_support import stem_stack

    with stem_stack() as stack:
        yield stack


@pytest.fixture(scope="session")
def stem_gateway_url(stem):
    """A gateway in front of the STEM chain, with Triton unreachable on purpose: the STEM routes
    must not depend on it."""
    with running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=stem.codeperception_url) as url:
        yield url


@pytest.fixture()
def stem_client(stem_gateway_url):
    with httpx.Client(base_url=stem_gateway_url, timeout=120) as http:
        yield http
