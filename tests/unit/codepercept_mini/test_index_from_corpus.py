"""The retrieval index built from CodePercept-mini's training corpus (`--from-corpus`): the figures the corpus
already holds, read instead of rendered, give the index rendering the same plan gives, byte for byte; a plan
the corpus does not hold stops the build, naming the program."""
from __future__ import annotations

import io

import pytest

from services.codeperception.retrieval import build
from services.codeperception.retrieval.index import RetrievalIndex
from services.codeperception.sample_dataset import pool_renderer
from tests.unit.codepercept_mini.conftest import FAMILIES

pytestmark = pytest.mark.timeout(300)
DPI = 50   # the corpora fixture's


def test_the_corpus_index_is_the_rendered_index(corpora, tmp_path):
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.pool import SandboxPool

    train, _ = corpora
    figure, size = build.corpus_renderer(train)
    plan = build.BuildPlan(corpus_seed=0, families=FAMILIES, per_family=size // len(FAMILIES), dpi=DPI)
    read = build.build_index(tmp_path / "read.npz", plan, figure, progress_stream=io.StringIO())
    with SandboxPool(SandboxConfig.from_env(workers=1, queue_size=2)) as pool:
        rendered = build.build_index(tmp_path / "rendered.npz", plan, pool_renderer(pool, DPI),
                                     progress_stream=io.StringIO())
    assert read.size == rendered.size == len(FAMILIES)
    assert (tmp_path / "read.npz").read_bytes() == (tmp_path / "rendered.npz").read_bytes()
    assert RetrievalIndex.load(tmp_path / "read.npz").size == len(FAMILIES)


def test_the_cli_takes_the_plan_from_the_corpus_and_refuses_another(tmp_path, capsys):
    from services.evaluation.shards import Shard
    from services.evaluation.synth import families
    from services.models.codepercept import corpus as mini_corpus

    names = families.resolve(",".join(FAMILIES))    # the CLI's order of the families: the engine's
    corpus = tmp_path / "corpus"
    mini_corpus.generate(corpus, count=len(names), seed=0, shard=Shard.whole(), dpi=DPI, families=names)
    out = tmp_path / "index.npz"
    arguments = ["--from-corpus", str(corpus), "--families", ",".join(names), "--dpi", str(DPI)]
    assert build.main(["--out", str(out), *arguments]) == 0
    assert RetrievalIndex.load(out).meta.count == len(names)   # the corpus's size: 1 of each family
    another_seed = tmp_path / "other.npz"
    assert build.main(["--out", str(another_seed), *arguments, "--seed", "5"]) == 1
    assert "does not hold this program" in capsys.readouterr().err and not another_seed.exists()
    assert build.main(["--out", str(tmp_path / "none.npz"), "--from-corpus", str(tmp_path / "nowhere")]) == 2
