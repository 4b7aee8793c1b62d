"""Best of N in `percept-eval run`: the `retrieval` backend over a split whose programs its index holds
(built by the real builder from the same engine seed), through the real sandbox. Each sample's answer is
chosen as the code-perception service chooses it: its k nearest programs are rendered and scored against
the input and the best kept, so each sample gets its own program back (the nearest, at distance 0), which
renders as the sample's image. The record lists every candidate and which was chosen."""
from __future__ import annotations

import io

import pytest

from services.codeperception.retrieval.build import BuildPlan, build_index
from services.codeperception.sample_dataset import client_renderer
from services.evaluation.cli import main
from services.evaluation.synth import corpus, families

from .conftest import DPI, SMALL_RUN, make_split, read_json, records_of, run_args

SEED = 7
K = 3


@pytest.fixture(scope="module")
def split(eval_sandbox, tmp_path_factory):
    return make_split(eval_sandbox, tmp_path_factory.mktemp("best-of-n"), 6, seed=SEED)


@pytest.fixture(scope="module")
def retrieval_env(eval_sandbox, split, monkeypatch_module):
    """The index of the first program of every family of the split's engine seed (the split's 6 among them)."""
    index = split.root / "index.npz"
    plan = BuildPlan(corpus_seed=SEED, families=families.resolve(""), per_family=1, dpi=DPI)
    with eval_sandbox.client() as client:
        build_index(index, plan, client_renderer(client, DPI), workers=2, progress_stream=io.StringIO())
    monkeypatch_module.setenv("PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX", str(index))
    monkeypatch_module.setenv("PERCEPT_CODEPERCEPTION_RETRIEVAL_K", str(K))
    return index


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_each_sample_gets_the_best_of_its_k_nearest_programs(eval_sandbox, split, retrieval_env, tmp_path):
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "retrieval", *SMALL_RUN)) == 0
    summary = read_json(out / "summary.json")
    assert summary["exec_rate"] == 100.0 and summary["deterministic"]["aggregate_mean"] >= 0.99
    assert read_json(out / "manifest.json")["candidates"] == 1
    all_families = families.resolve("")
    for record in records_of(out):
        own = corpus.program(SEED, all_families, record["index"])
        assert len(record["candidates"]) == K  # one asked for: the k nearest are verified anyway
        assert all(c["origin"] == "retrieval" and c["status"] == "OK" for c in record["candidates"])
        chosen = record["candidates"][record["chosen"]]
        assert chosen["neighbour"] == {"family": own.family, "seed": own.seed}
        assert chosen["fidelity"] == max(c["fidelity"] for c in record["candidates"])
        assert record["status"] == "OK" and record["code"].strip() == own.code.strip()


def test_more_candidates_asked_for_are_all_verified(eval_sandbox, split, retrieval_env, tmp_path):
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "retrieval", "--candidates", "5", *SMALL_RUN)) == 0
    assert read_json(out / "manifest.json")["candidates"] == 5
    assert all(len(record["candidates"]) == 5 for record in records_of(out))


def test_the_chosen_answer_is_refined_as_the_service_refines_it(eval_sandbox, split, retrieval_env, tmp_path):
    # Each sample's own program is in the index and scores about 1: the refinement's tries do not beat it,
    # so the answer stays the retrieved program, and the record says what the refinement spent.
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "retrieval", "--refine-renders", "2",
                         *SMALL_RUN)) == 0
    assert read_json(out / "manifest.json")["refine_renders"] == 2
    for record in records_of(out):
        assert 0 < record["refinement"]["renders"] <= 2 and record["refinement"]["changes"] == ""
        assert record["candidates"][record["chosen"]]["origin"] == "retrieval"


@pytest.fixture(scope="module")
def sibling_index(eval_sandbox, split):
    """An index of the first program of every family of another engine seed: each sample's nearest programs are
    its family drawn with other values, which the refinement can read back."""
    index = split.root / "sibling-index.npz"
    plan = BuildPlan(corpus_seed=SEED + 1, families=families.resolve(""), per_family=1, dpi=DPI)
    with eval_sandbox.client() as client:
        build_index(index, plan, client_renderer(client, DPI), workers=2, progress_stream=io.StringIO())
    return index


def test_a_refined_program_that_scores_higher_becomes_the_answer(eval_sandbox, split, sibling_index,
                                                                 monkeypatch, tmp_path):
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX", str(sibling_index))
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_RETRIEVAL_K", str(K))
    out = tmp_path / "out"
    assert main(run_args(eval_sandbox, split, out, "--backend", "retrieval", "--refine-renders", "8",
                         *SMALL_RUN)) == 0
    records = records_of(out)
    refined = [record for record in records if record["refinement"]["changes"]]
    assert refined, [record["refinement"] for record in records]   # a sibling's values are not the sample's
    for record in refined:
        chosen = record["candidates"][record["chosen"]]
        parent = record["candidates"][chosen["refined_from"]]
        assert record["chosen"] == len(record["candidates"]) - 1 and chosen["origin"] == "refined"
        assert parent["origin"] == "retrieval" and chosen["fidelity"] > parent["fidelity"]
        # the answer is the refined program: what the record scores is what the search found
        assert record["fidelity"]["aggregate"] == pytest.approx(chosen["fidelity"], abs=1e-6)
    for record in records:
        if not record["refinement"]["changes"]:
            assert record["candidates"][record["chosen"]]["origin"] == "retrieval"
