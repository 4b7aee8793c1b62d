"""Shared fixtures: the tiny TokenFD build and a real tritonserver serving it.

* `tokenfd_artifacts` builds, once per test session, what `make models` builds: the
  tiny seeded checkpoint, its ONNX export and the cpu model repository, in a temporary
  directory (a fresh build is a few seconds and never goes stale against the sources).
* `triton_server` is a real tritonserver (the nvidia-pytriton wheel's) on free ports,
  serving that repository; it yields the launcher's TritonServer (`grpc_url`,
  `http_url`, `http_address`, `metrics_url`).

The tiny model has random weights: tests check plumbing and numerics, never quality.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tokenfd_artifacts(tmp_path_factory):
    """services.models.build_default.BuiltDefault: .checkpoint, .export, .repository."""
    from services.models.build_default import build_default

    return build_default(tmp_path_factory.mktemp("tokenfd"), log=lambda *_: None)


@pytest.fixture(scope="session")
def triton_stub_site():
    """The numpy-1 site of the python-backend stub (`make setup` installs it; idempotent)."""
    from services.triton import stubenv

    site = stubenv.stub_site()
    return stubenv.install(site) if site is not None else None


@pytest.fixture(scope="session")
def triton_server(tokenfd_artifacts, triton_stub_site):
    from services.triton.launcher import TritonServer

    with TritonServer(tokenfd_artifacts.repository, http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server
