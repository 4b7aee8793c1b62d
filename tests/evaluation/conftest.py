"""Real processes for the harness tests: one sandbox-runner server for the session (the same
`percept-sandbox serve` as in production), splits written by the synthetic data engine
through it, and the runs several tests compare against.

Splits are rendered at 60 dpi and the harness renders them at the same dpi here: the
protocol's 300 would triple the session's time for no extra coverage (the dpi is one request
field; test_protocol.py renders at 300; docs/evaluation.md).
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from services.evaluation.cli import main
from tests.sandbox.harness import SandboxServer

DPI = 60


@pytest.fixture(scope="session")
def eval_sandbox():
    with SandboxServer(workers=2, queue_size=16) as server:
        yield server


def make_split(sandbox: SandboxServer, root: Path, count: int, seed: int) -> SimpleNamespace:
    split = root / "split"
    status = main(["synth", "--split", str(split), "--count", str(count), "--seed", str(seed),
                   "--sandbox", sandbox.target, "--concurrency", "4", "--dpi", str(DPI)])
    assert status == 0
    return SimpleNamespace(root=root, data=split / "data.jsonl", images=split / "images", count=count)


def run_args(sandbox: SandboxServer, split, out: Path, *extra: str) -> list[str]:
    return ["run", "--data", str(split.data), "--images", str(split.images), "--out", str(out),
            "--sandbox", sandbox.target, "--dpi", str(DPI), "--render-concurrency", "4", *extra]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def records_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def split200(eval_sandbox, tmp_path_factory):
    return make_split(eval_sandbox, tmp_path_factory.mktemp("split200"), 200, seed=8)


@pytest.fixture(scope="session")
def run200(eval_sandbox, split200, tmp_path_factory):
    """The reference backend over the 200-sample split, uninterrupted, report included. Image
    metrics only: rendering the 200 ground truths too would double the session's longest step;
    the trace metrics are exercised by the judge test's run."""
    out = tmp_path_factory.mktemp("run200") / "out"
    assert main(run_args(eval_sandbox, split200, out, "--no-trace-metrics")) == 0
    return out


@pytest.fixture(scope="session")
def split40(eval_sandbox, tmp_path_factory):
    return make_split(eval_sandbox, tmp_path_factory.mktemp("split40"), 40, seed=3)


# The resume and shard tests compare image-only runs too (half the renders).
SMALL_RUN = ("--no-trace-metrics", "--no-report")


@pytest.fixture(scope="session")
def baseline40(eval_sandbox, split40, tmp_path_factory):
    """An uninterrupted, unsharded run of the 40-sample split."""
    out = tmp_path_factory.mktemp("baseline40") / "out"
    assert main(run_args(eval_sandbox, split40, out, *SMALL_RUN)) == 0
    return out
