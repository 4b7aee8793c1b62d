"""Real processes for the code-perception tests: one sandbox-runner for the session, the
embedded STEM2Code sample built through it, and the service started per test module."""
from __future__ import annotations

import pytest

from services.codeperception.sample_dataset import build_sample, client_renderer
from services.codeperception.settings import RENDER_DPI
from tests.sandbox.harness import SandboxServer

from .fake_vlm import FakeVLM


@pytest.fixture(scope="session")
def sandbox():
    server = SandboxServer(workers=2, queue_size=16)
    with server:
        yield server


@pytest.fixture(scope="session")
def sample_dataset(sandbox, tmp_path_factory):
    """What `make models` builds (artifacts/stem2code-sample), built fresh through the session's sandbox."""
    with sandbox.client() as client:
        out = tmp_path_factory.mktemp("stem2code") / "sample"
        return build_sample(out, client_renderer(client, RENDER_DPI.default))


@pytest.fixture(scope="module")
def vlm():
    """The scripted OpenAI-compatible server (stands in for a GPU VLM), one per test module."""
    with FakeVLM() as server:
        yield server
