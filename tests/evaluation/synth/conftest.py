"""Real processes for the data-engine tests: one sandbox-runner server for the session
(the same `percept-sandbox serve` as in production), and one small corpus generated
through it that several tests compare against."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.evaluation.shards import Shard
from services.evaluation.synth import families
from services.evaluation.synth.engine import Plan, generate
from services.evaluation.synth.render import TripletRenderer
from tests.sandbox.harness import SandboxServer

DPI = 60  # small images keep the session fast; the engine's default is 100
SEED = 11
# Two samples of every family (families are drawn round-robin).
COUNT = 2 * len(families.FAMILIES)


@pytest.fixture(scope="session")
def synth_sandbox():
    with SandboxServer(workers=2, queue_size=16) as server:
        yield server


@pytest.fixture(scope="session")
def renderer(synth_sandbox):
    with TripletRenderer(synth_sandbox.target, dpi=DPI, timeout_s=30.0) as sandbox_renderer:
        yield sandbox_renderer


def plan(count: int = COUNT, seed: int = SEED, shard: Shard | None = None) -> Plan:
    return Plan(count=count, seed=seed, families=families.resolve(None), shard=shard or Shard.whole())


@pytest.fixture(scope="session")
def corpus(renderer, tmp_path_factory):
    """The whole corpus (no shard) written once as triplets and as a split; `rendered` holds its
    triplets with their traces as the engine saw them."""
    root = tmp_path_factory.mktemp("synth-corpus")
    rendered = []
    generate(plan(), renderer, out=root / "triplets", split=root / "split", concurrency=2,
             on_triplet=rendered.append)
    return SimpleNamespace(triplets=root / "triplets", split=root / "split", rendered=rendered)
