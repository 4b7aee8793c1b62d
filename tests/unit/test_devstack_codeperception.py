"""The code-perception backend `make up` runs: `verified` with the retrieval index published beside
CodePercept-mini when that directory holds one, else `reference`; a configured backend or index always
wins, and the service dials the Triton that `make up` starts, on whatever port it was given."""
from __future__ import annotations

import pytest

from services import devstack
from services.codeperception import settings as cp
from services.models.codepercept.config import INDEX_FILE


@pytest.fixture(autouse=True)
def unconfigured(monkeypatch):
    for setting in (cp.BACKEND, cp.RETRIEVAL_INDEX, cp.DATASET_DIR):
        monkeypatch.delenv(setting.name, raising=False)


def test_the_published_index_makes_the_verified_backend_the_default(tmp_path):
    published = tmp_path / "codepercept-mini"
    published.mkdir()
    (published / INDEX_FILE).write_bytes(b"an index")
    env = devstack.codeperception_backend(tmp_path / "artifacts", published)
    assert env[cp.BACKEND.name] == "verified"
    assert env[cp.RETRIEVAL_INDEX.name] == str(published / INDEX_FILE)


@pytest.mark.parametrize("published", [None, "empty"])
def test_without_a_published_index_the_reference_backend_serves(tmp_path, published):
    directory = None
    if published:
        directory = tmp_path / published
        directory.mkdir()
    env = devstack.codeperception_backend(tmp_path / "artifacts", directory)
    assert env[cp.BACKEND.name] == "reference"
    assert env[cp.RETRIEVAL_INDEX.name] == str(tmp_path / "artifacts" / devstack.RETRIEVAL_INDEX)
    assert env[cp.DATASET_DIR.name] == str(tmp_path / "artifacts" / devstack.SAMPLE_DATASET)


def test_a_configured_backend_and_index_win(tmp_path, monkeypatch):
    published = tmp_path / "codepercept-mini"
    published.mkdir()
    (published / INDEX_FILE).write_bytes(b"an index")
    monkeypatch.setenv(cp.BACKEND.name, "retrieval")
    monkeypatch.setenv(cp.RETRIEVAL_INDEX.name, "/data/index.npz")
    env = devstack.codeperception_backend(tmp_path / "artifacts", published)
    assert (env[cp.BACKEND.name], env[cp.RETRIEVAL_INDEX.name]) == ("retrieval", "/data/index.npz")


def test_code_perception_dials_the_triton_make_up_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("PERCEPT_TRITON_GRPC_PORT", "18123")
    (service,) = [c for c in devstack.plan_components(tmp_path) if c.name == "codeperception"]
    assert service.env[cp.TRITON_URL.name] == "127.0.0.1:18123"
    assert service.env[cp.BACKEND.name] == "reference"
