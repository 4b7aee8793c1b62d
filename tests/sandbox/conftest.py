"""Fixtures of the sandbox-runner's functional tests: one real server for the module set."""
from __future__ import annotations

import pytest

from tests.sandbox.harness import SandboxServer


@pytest.fixture(scope="session")
def sandbox_server():
    with SandboxServer(workers=2, queue_size=2) as server:
        yield server


@pytest.fixture(scope="session")
def sandbox(sandbox_server):
    with sandbox_server.client() as client:
        yield client
