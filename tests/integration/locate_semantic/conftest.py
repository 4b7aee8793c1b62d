"""The real stack in front of a trained TokenFD-mini: the served default committed at models/tokenfd-mini
(a copy of v3 today: docs/tokenfd-mini.md), else the best version committed beside it (BEST_VERSION), or the
one PERCEPT_TEST_TOKENFD_CHECKPOINT names, exported and built as `make
models` builds it (TokenFD only), a real tritonserver serving it and a real gateway in front; and the same
weights with a record that spells, served the same way, where the checkpoint's own does not
(`spelling_client`). Without
any of them the tests that need one are skipped, saying so; the page's geometry checks run regardless."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from services.models.tokenfd.mini import PUBLISHED_DIR
from tests.integration.gateway.support import running_gateway

ROOT = Path(__file__).resolve().parents[3]
# The best trained version committed: the pipeline is tested end to end with it if none is published.
BEST_VERSION = ROOT / "models" / "tokenfd-mini-v3"
CHECKPOINT_VARIABLE = "PERCEPT_TEST_TOKENFD_CHECKPOINT"   # another trained checkpoint, to develop the tests with
SKIP_REASON = "needs a trained TokenFD-mini (models/tokenfd-mini, or models/tokenfd-mini-v3)"


def trained_checkpoint() -> Path | None:
    """The checkpoint under test, or None when there is none."""
    chosen = os.environ.get(CHECKPOINT_VARIABLE)
    for directory in ([Path(chosen)] if chosen else [ROOT / PUBLISHED_DIR, BEST_VERSION]):
        if (directory / "config.json").is_file():
            return directory
    return None


@pytest.fixture(scope="package")
def checkpoint() -> Path:
    directory = trained_checkpoint()
    if directory is None:
        pytest.skip(SKIP_REASON)
    return directory


@pytest.fixture(scope="package")
def trained_build(checkpoint, tmp_path_factory):
    from services.models.build_default import build_families

    return build_families(tmp_path_factory.mktemp("tokenfd-trained"), checkpoints={"tokenfd": checkpoint},
                          only=("tokenfd",), log=lambda *_: None)


@pytest.fixture(scope="package")
def trained_triton(trained_build, triton_stub_site):
    from services.triton.launcher import TritonServer

    with TritonServer(trained_build.repository, http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server


@pytest.fixture(scope="package")
def trained_client(trained_triton):
    # the gateway's own default threshold: the checkpoint's recorded one, whatever this shell sets
    env = {"PERCEPT_BOX_THRESHOLD": ""}
    with running_gateway(trained_triton.grpc_url, **env) as url, httpx.Client(base_url=url, timeout=120) as http:
        yield http


# What a spelling record reads a one-word query's letters with, when the checkpoint's own record does not spell.
SPELLING_LETTERS = 1.0


@pytest.fixture(scope="package")
def spelling_client(checkpoint, tmp_path_factory, triton_stub_site, request):
    """A gateway whose locate default spells a one-word query, serving the trained checkpoint: `trained_client`
    when the checkpoint's own calibration chose to spell (no second server), else the checkpoint with a record
    whose decoding spells, served as `trained_client` is. So the letters' path runs end to end either way."""
    from services.models.build_default import build_families
    from services.models.tokenfd.checkpoint import RECORD_FILE
    from services.triton.launcher import TritonServer

    own = json.loads((checkpoint / RECORD_FILE).read_text()).get("decoding", {})
    if own.get("boxes") == "ink" and own.get("letters", 0) > 0:
        yield request.getfixturevalue("trained_client")
        return
    copy = tmp_path_factory.mktemp("tokenfd-spelling") / "checkpoint"
    shutil.copytree(checkpoint, copy)
    record = json.loads((copy / RECORD_FILE).read_text())
    record["decoding"] = {**record["decoding"], "boxes": "ink", "letters": SPELLING_LETTERS}
    (copy / RECORD_FILE).write_text(json.dumps(record))
    build = build_families(tmp_path_factory.mktemp("tokenfd-spelling-build"), checkpoints={"tokenfd": copy},
                           only=("tokenfd",), log=lambda *_: None)
    with TritonServer(build.repository, http_port=0, grpc_port=0, metrics_port=0) as server, \
            running_gateway(server.grpc_url, PERCEPT_BOX_THRESHOLD="") as url, \
            httpx.Client(base_url=url, timeout=120) as http:
        yield http
