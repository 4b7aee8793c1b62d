"""The reference backend over a 200-sample split written by the data engine, through the real
sandbox: every program the engine wrote runs, and its render scores as the engine's image."""
from services.evaluation.cli import main

from .conftest import read_json, records_of


def test_reference_backend_executes_everything_with_full_fidelity(run200, split200):
    summary = read_json(run200 / "summary.json")
    assert summary["schema"] == "percept-eval.summary/1"
    assert summary["complete"] and summary["counts"]["total"] == 200
    assert summary["exec_rate"] == 100.0
    assert summary["deterministic"]["aggregate_mean"] >= 0.99
    assert summary["deterministic"]["modes"] == {"image_only": 200}
    records = records_of(run200)
    assert sorted(record["index"] for record in records) == list(range(200))
    assert all(record["status"] == "OK" and (run200 / record["render"]).is_file() for record in records)


def test_without_a_judge_the_judge_columns_are_absent(run200):
    summary = read_json(run200 / "summary.json")
    assert "judge" not in summary and "finals" not in summary
    assert not any("judge" in record for record in records_of(run200))
    assert "finals" not in summary["deterministic"]  # image metrics only: no judge-free code score either


def test_the_report_shows_every_sample_side_by_side_and_rerenders(run200, capsys):
    report = run200 / "report" / "index.html"
    html = report.read_text()
    assert html.count("<tr><td>") == 200
    assert html.count('-input.jpg"') == 200 and html.count('-render.jpg"') == 200
    assert (run200 / "report" / "plots" / "scores.png").stat().st_size > 1000
    report.unlink()
    before = (run200 / "summary.json").read_text()
    assert main(["report", str(run200)]) == 0
    assert report.is_file() and (run200 / "summary.json").read_text() == before
    assert str(report) in capsys.readouterr().out
