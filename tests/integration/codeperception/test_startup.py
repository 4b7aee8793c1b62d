"""Start-up checks of the service process: settings validated before anything starts, and
a backend that cannot serve stops start-up with a clear message (exit status 3) instead of
failing requests later."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.common.net import find_free_ports


def _start(**env: str) -> subprocess.CompletedProcess:
    grpc_port, metrics_port = find_free_ports(2)
    environment = {**os.environ, "PERCEPT_CODEPERCEPTION_GRPC_PORT": str(grpc_port),
                   "PERCEPT_CODEPERCEPTION_METRICS_PORT": str(metrics_port), **env}
    return subprocess.run([sys.executable, "-m", "services.codeperception"], env=environment, capture_output=True,
                          text=True, timeout=60)


def test_malformed_settings_stop_start_up_naming_each_variable():
    result = _start(PERCEPT_CODEPERCEPTION_BACKEND="gpt-9", PERCEPT_MAX_CANDIDATES="-2")
    assert result.returncode == 2, result.stderr
    assert "invalid configuration" in result.stderr
    assert "PERCEPT_CODEPERCEPTION_BACKEND='gpt-9'" in result.stderr
    assert "PERCEPT_MAX_CANDIDATES='-2'" in result.stderr


def test_the_openai_backend_needs_its_endpoint_and_model():
    result = _start(PERCEPT_CODEPERCEPTION_BACKEND="openai", PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL="",
                    PERCEPT_CODEPERCEPTION_OPENAI_MODEL="")
    assert result.returncode == 3, result.stderr
    assert ("the openai backend needs PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL and "
            "PERCEPT_CODEPERCEPTION_OPENAI_MODEL") in result.stderr


def test_the_reference_backend_needs_its_dataset(tmp_path):
    result = _start(PERCEPT_CODEPERCEPTION_BACKEND="reference", PERCEPT_CODEPERCEPTION_DATASET_DIR=str(tmp_path))
    assert result.returncode == 3, result.stderr
    assert "the reference backend cannot load its dataset: no STEM2Code dataset at" in result.stderr


@pytest.fixture(scope="module")
def tokenfd_only_triton(tokenfd_artifacts, triton_stub_site, tmp_path_factory):
    """A real tritonserver serving TokenFD alone (the default repository also serves TokenVL)."""
    from services.models.tokenfd.triton.repository import build_repository
    from services.triton.launcher import TritonServer

    repository = build_repository("cpu", tokenfd_artifacts.export, tmp_path_factory.mktemp("tokenfd-only") / "repo")
    with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server


def test_the_triton_backend_refuses_a_triton_without_a_generation_model(tokenfd_only_triton):
    """A real tritonserver serving TokenFD only: no model implements the contract."""
    triton_server = tokenfd_only_triton
    result = _start(PERCEPT_CODEPERCEPTION_BACKEND="triton", PERCEPT_CODEPERCEPTION_TRITON_URL=triton_server.grpc_url)
    assert result.returncode == 3, result.stderr
    assert (f"no model served by Triton at {triton_server.grpc_url} implements the generation contract "
            "(services/triton/generation.py)") in result.stderr
    assert "tokenfd_locate: not decoupled (model_transaction_policy { decoupled: true }), input PROMPT is " \
           "missing" in result.stderr


def test_the_triton_backend_says_when_triton_cannot_be_reached():
    (port,) = find_free_ports(1)
    result = _start(PERCEPT_CODEPERCEPTION_BACKEND="triton", PERCEPT_CODEPERCEPTION_TRITON_URL=f"127.0.0.1:{port}")
    assert result.returncode == 3, result.stderr
    assert f"the triton backend cannot reach Triton at 127.0.0.1:{port}" in result.stderr
