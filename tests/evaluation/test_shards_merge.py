"""Shards: n shard runs merged equal the unsharded run; merge refuses overlaps, gaps,
incomplete shards and shards of another run, naming them."""
import shutil

import pytest

from services.evaluation.cli import main

from .conftest import SMALL_RUN, read_json, records_of, run_args

SHARDS = 3


@pytest.fixture(scope="module")
def shard_runs(eval_sandbox, split40, tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    outs = []
    for index in range(SHARDS):
        out = root / f"shard-{index}"
        assert main(run_args(eval_sandbox, split40, out, *SMALL_RUN, "--shard", f"{index}/{SHARDS}")) == 0
        outs.append(out)
    return outs


def test_merged_shards_equal_the_unsharded_run(shard_runs, baseline40, tmp_path):
    assert [len(records_of(out)) for out in shard_runs] == [14, 13, 13]
    assert {record["index"] % SHARDS for record in records_of(shard_runs[1])} == {1}
    merged = tmp_path / "merged"
    assert main(["merge", "--out", str(merged), *map(str, reversed(shard_runs))]) == 0
    assert read_json(merged / "summary.json") == read_json(baseline40 / "summary.json")
    assert sorted(record["index"] for record in records_of(merged)) == list(range(40))
    assert all((merged / record["render"]).is_file() for record in records_of(merged))
    assert (merged / "report" / "index.html").is_file()


def test_shard_from_the_indexed_job_environment(eval_sandbox, split40, shard_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")
    monkeypatch.setenv("PERCEPT_EVAL_SHARD_COUNT", str(SHARDS))
    out = tmp_path / "pod"
    shutil.copytree(shard_runs[2], out)  # a retried pod finds its shard's directory: nothing to redo
    assert main(run_args(eval_sandbox, split40, out, *SMALL_RUN)) == 0
    assert read_json(out / "manifest.json")["shard"] == "2/3"
    assert records_of(out) == records_of(shard_runs[2])


@pytest.mark.parametrize("pick, message", [
    ([0, 1, 1], "overlapping shards 1/3; missing shards 2/3"),
    ([0, 2], "missing shards 1/3"),
])
def test_merge_refuses_overlaps_and_gaps(shard_runs, tmp_path, capsys, pick, message):
    out = tmp_path / "merged"
    assert main(["merge", "--out", str(out), *(str(shard_runs[i]) for i in pick)]) == 2
    assert f"cannot merge: {message}" in capsys.readouterr().err
    assert not out.exists()


def test_merge_refuses_an_incomplete_shard_and_another_runs_shard(shard_runs, baseline40, tmp_path, capsys):
    partial = tmp_path / "partial"
    shutil.copytree(shard_runs[1], partial)
    lines = (partial / "records.jsonl").read_text().splitlines(keepends=True)
    (partial / "records.jsonl").write_text("".join(lines[:-1]))
    assert main(["merge", "--out", str(tmp_path / "m1"), str(shard_runs[0]), str(partial), str(shard_runs[2])]) == 2
    assert "is incomplete: 12 of 13 samples recorded" in capsys.readouterr().err
    assert main(["merge", "--out", str(tmp_path / "m2"), str(baseline40), str(shard_runs[0])]) == 2
    assert "different shard counts" in capsys.readouterr().err
