"""Shared fixtures: the tiny TokenFD build and a real tritonserver serving it.

* `tokenfd_artifacts` builds, once per test session, what `make models` builds: the
  tiny seeded checkpoint, its ONNX export and the cpu model repository, in a temporary
  directory (a fresh build is a few seconds and never goes stale against the sources).
* `triton_server` is a real tritonserver (the nvidia-pytriton wheel's) on free ports,
  serving that repository; it yields the launcher's TritonServer (`grpc_url`,
  `http_url`, `http_address`, `metrics_url`).
* `tokenfd_recorded_build` is the same build (TokenFD only) from a checkpoint that records a
  name, a calibrated threshold and a decoding beside its weights, as TokenFD-mini's does: the tiny
  seeded weights with a tokenfd_mini.json written beside them (RECORDED_NAME, RECORDED_THRESHOLD,
  RECORDED_DECODING).

The tiny model has random weights: tests check plumbing and numerics, never quality.
"""
from __future__ import annotations

import shutil

import pytest

# What `tokenfd_recorded_build`'s checkpoint records (its directory is named otherwise, so a test
# can tell the recorded name from the directory's).
RECORDED_NAME = "tokenfd-recorded"
RECORDED_THRESHOLD = 0.37
RECORDED_DECODING = {"peak_share": 0.9, "rank": "mass", "boxes": "maps", "aspect": 0.0, "length_weight": 0.0,
                     "span_mean": 0.0, "letters": 0.0, "likeness": 0.0}


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


@pytest.fixture(scope="session")
def tokenfd_recorded_build(tokenfd_artifacts, tmp_path_factory):
    """services.models.build_default.BuiltDefault of TokenFD alone, from the tiny checkpoint with a
    record (RECORDED_NAME, RECORDED_THRESHOLD, RECORDED_DECODING) beside its weights."""
    import json

    from services.models.build_default import build_families
    from services.models.tokenfd.checkpoint import RECORD_FILE

    out = tmp_path_factory.mktemp("tokenfd-recorded")
    checkpoint = shutil.copytree(tokenfd_artifacts.checkpoint, out / "checkpoints" / "tiny-with-record")
    (checkpoint / RECORD_FILE).write_text(json.dumps({"name": RECORDED_NAME, "threshold": RECORDED_THRESHOLD,
                                                      "decoding": RECORDED_DECODING, "steps": 0}))
    return build_families(out, checkpoints={"tokenfd": checkpoint}, only=("tokenfd",), log=lambda *_: None)
