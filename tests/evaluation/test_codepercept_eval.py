"""`make eval-codepercept` end to end in miniature, real processes: a CodePercept-mini checkpoint the recipe
trains for 3 steps (plumbing, not a model) served by a real tritonserver, a retrieval index built by the real
builder, a sandbox server, and percept-eval over 3 held-out engine figures and 2 independent ones with each
configuration. The summary holds every set x configuration with its figures, the report is written into its
block of the document and marked plumbing only, and the plot is drawn."""
from __future__ import annotations

import dataclasses
import io
import json

import pytest

from services.codeperception.retrieval.build import BuildPlan, build_index
from services.codeperception.sample_dataset import client_renderer
from services.evaluation.codepercept import cli, report, runs
from services.models.codepercept.config import Recipe
from services.models.codepercept.train import Trainer
from tests.unit.codepercept_mini.conftest import make_corpora, tiny_sizes

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval-codepercept-model")
    train, heldout = make_corpora(root)
    recipe = dataclasses.replace(Recipe(), steps=3, batch=2, threads=1, eval_every=3, eval_samples=2,
                                 decode_samples=1, warmup=1, code_guard=False)   # tune --code-guard adds it
    return Trainer(train, heldout, root / "run", recipe, sizes=tiny_sizes, log=lambda *_: None).run(progress=False)


@pytest.fixture(scope="module")
def index(eval_sandbox, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-codepercept-index") / "index.npz"
    plan = BuildPlan(corpus_seed=0, families=("bar_chart", "function_plot", "pie_chart"), per_family=3, dpi=50)
    with eval_sandbox.client() as client:
        build_index(out, plan, client_renderer(client, plan.dpi), workers=2, progress_stream=io.StringIO())
    return out


def test_every_configuration_is_measured_on_both_sets(checkpoint, index, tmp_path, capsys, triton_stub_site):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Before\n")
    plot = tmp_path / "img" / "eval.png"
    status = cli.main(["run", "--checkpoint", str(checkpoint), "--index", str(index), "--out", str(tmp_path / "out"),
                       "--engine-count", "3", "--limit", "2", "--dpi", "50", "--write-docs", "--doc", str(doc),
                       "--plot", str(plot)])
    assert status == 0, capsys.readouterr().err[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["plumbing_only"] and summary["record"]["steps"] == 3
    assert [(row["set"], row["config"]) for row in summary["results"]] == \
        [(s, c.name) for s in ("engine", "independent") for c in runs.CONFIGS]
    for row in summary["results"]:
        assert row["figures"] == 2 and 0.0 <= row["fidelity"] <= 1.0 and row["seconds_per_figure"] > 0
        assert sum(family["figures"] for family in row["families"].values()) == 2
        assert "GENERATION_ERROR" not in row["statuses"], row    # the served model answered every figure
    retrieval = {row["set"]: row for row in summary["results"] if row["backend"] == "retrieval"}
    assert retrieval["engine"]["exec_rate"] == 1.0    # retrieved programs are engine programs: they render
    assert set(retrieval["independent"]["families"]) == {"f01_damped_oscillator", "f02_titration_curve"}
    text = doc.read_text()
    start, end = report.BLOCK + ":start", report.BLOCK + ":end"
    assert text.count(start) == 1 and text.count(end) == 1 and "Plumbing only" in text
    assert "(img/eval.png)" in text and plot.stat().st_size > 1000
    assert "--limit 2" in summary["command"] and "--limit 2" in text   # the run says how it was cut


def test_tune_measures_each_temperature_on_its_own_seed(checkpoint, index, tmp_path, capsys, triton_stub_site):
    """... here under the code guard, with the names the index's programs read unbound."""
    out = tmp_path / "tune"
    status = cli.main(["tune", "--checkpoint", str(checkpoint), "--index", str(index), "--out", str(out),
                       "--engine-count", "2", "--temperatures", "0.5", "1.0", "--candidates", "2", "--dpi", "50",
                       "--code-guard"])
    assert status == 0, capsys.readouterr().err[-3000:]
    summary = json.loads((out / "tune.json").read_text())
    assert summary["engine_seed"] == 2 and summary["figures"] == 2 and summary["candidates"] == 2
    assert summary["code_guard"] and "color=" in json.loads(
        (out / "checkpoint-with-code-guard" / "codepercept_mini.json").read_text())["code_guard"]["free_names"]
    assert "code_guard" not in json.loads((checkpoint / "codepercept_mini.json").read_text())
    assert [row["temperature"] for row in summary["temperatures"]] == [0.5, 1.0]
    # every sample of each figure is counted by how it ended
    assert all(sum(row["candidate_statuses"].values()) == 2 * 2 for row in summary["temperatures"])
    manifest = json.loads((out / "runs" / "T0.5" / "manifest.json").read_text())
    assert manifest["candidates"] == 2 and manifest["protocol"]["sampling"]["temperature"] == 0.5
    for row in summary["temperatures"]:   # the greedy program as one more candidate never loses a figure
        assert row["with_greedy"]["exec_rate"] >= max(row["samples"]["exec_rate"], summary["greedy"]["exec_rate"])
        assert row["with_greedy"]["fidelity"] >= row["samples"]["fidelity"] - 1e-9
    assert "| 0.5 |" in capsys.readouterr().out


def test_refine_curve_measures_each_budget_against_retrieval_alone(index, tmp_path, capsys):
    out = tmp_path / "refine"
    status = cli.main(["refine-curve", "--index", str(index), "--out", str(out), "--engine-count", "2",
                       "--limit", "2", "--renders", "0", "3", "--dpi", "50"])
    assert status == 0, capsys.readouterr().err[-3000:]
    summary = json.loads((out / "refine_curve.json").read_text())
    assert [(row["set"], row["renders"]) for row in summary["rows"]] == \
        [(s, r) for s in ("engine", "independent") for r in (0, 3)]
    assert all(row["figures"] == 2 and row["exec_rate"] == 1.0 for row in summary["rows"])
    by = {(row["set"], row["renders"]): row["fidelity"] for row in summary["rows"]}
    for set_name in ("engine", "independent"):   # a refined answer only ever replaces a worse one
        assert by[set_name, 3] >= by[set_name, 0]
    records = [json.loads(line) for line in (out / "runs" / "engine-r3" / "records.jsonl").read_text().splitlines()]
    assert all(0 < record["refinement"]["renders"] <= 3 for record in records)
    assert "| engine | 3 | 2 |" in capsys.readouterr().out
