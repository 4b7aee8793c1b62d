"""Resume is exactly once: the harness, run as its own process, is SIGKILLed at random points
several times; after it is resumed every sample appears exactly once and the summary is the
uninterrupted run's."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from services.evaluation.records import RecordStore, RunDirError, read_records

from .conftest import SMALL_RUN, read_json, records_of, run_args

REPO = Path(__file__).resolve().parents[2]
KILLS = 3  # the first during start-up, the others after a random number of new records


def count_lines(out: Path) -> int:
    path = out / "records.jsonl"
    return path.read_bytes().count(b"\n") if path.is_file() else 0


def start(args: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "services.evaluation", *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_at_random_points_then_resume_runs_every_sample_exactly_once(eval_sandbox, split40, baseline40,
                                                                             tmp_path, capsys):
    out = tmp_path / "out"
    args = run_args(eval_sandbox, split40, out, *SMALL_RUN, "--render-concurrency", "3")
    chance = random.Random(20261202)
    kills_landed_mid_run = 0
    for kill in range(KILLS):
        before = count_lines(out)
        process = start(args)
        # wait for a random number of new records (the first kill: a random moment of start-up)
        wanted = before + (0 if kill == 0 else chance.randint(1, 6))
        deadline = time.monotonic() + 120
        while count_lines(out) < wanted and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(chance.uniform(0.2, 1.5) if kill == 0 else chance.uniform(0.0, 0.3))
        if process.poll() is not None:
            break  # finished before this kill: nothing left to interrupt
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        kills_landed_mid_run += 0 < count_lines(out) < split40.count
    assert kills_landed_mid_run >= 1, "the kills did not interrupt the run; make the split larger"

    final = start(args)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr.decode()
    indices = [record["index"] for record in records_of(out)]
    assert sorted(indices) == list(range(split40.count))  # none lost, none repeated
    assert read_json(out / "summary.json") == read_json(baseline40 / "summary.json")
    assert not list(out.rglob("*.partial"))

    # a finished run resumed again runs nothing and changes nothing (in process: no new start-up)
    from services.evaluation.cli import main
    assert main(args) == 0
    assert "0 run, 40 already recorded" in capsys.readouterr().err
    assert [record["index"] for record in records_of(out)] == indices


def test_a_torn_last_record_is_cut_and_that_sample_counts_as_not_done(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(json.dumps({"index": 0}).encode() + b"\n" + b'{"index": 1, "sta')
    assert [record["index"] for record in read_records(path)] == [0]
    store = RecordStore(tmp_path)
    assert store.done(0) and not store.done(1)
    store.append({"index": 1})
    store.close()
    assert [record["index"] for record in read_records(path)] == [0, 1]


def test_a_gap_left_by_records_finishing_out_of_order_is_run_on_resume_and_nothing_twice(tmp_path):
    samples = [SimpleNamespace(index=index) for index in range(8)]
    store = RecordStore(tmp_path)
    for index in (0, 3, 1, 5, 4):      # finished out of order; 2, 6 and 7 were in flight at the kill
        store.append({"index": index})
    store.close()

    resumed = RecordStore(tmp_path)
    pending = resumed.pending(samples)
    assert [sample.index for sample in pending] == [2, 6, 7]   # the gap included, nothing recorded again
    assert [resumed.done(index) for index in range(8)] == [True, True, False, True, True, True, False, False]
    for sample in pending:
        resumed.append({"index": sample.index})
    resumed.close()

    final = RecordStore(tmp_path)
    assert final.pending(samples) == []
    assert sorted(record["index"] for record in read_records(tmp_path / "records.jsonl")) == list(range(8))
    final.close()


def test_the_harness_resumes_a_run_with_gaps_in_its_records(eval_sandbox, split40, baseline40, tmp_path,
                                                             capsys):
    """A finished run with two records taken out of the middle (later samples recorded, earlier
    ones not: what out-of-order completion and a kill leave) runs exactly those two again."""
    from services.evaluation.cli import main

    out = tmp_path / "out"
    shutil.copytree(baseline40, out)
    lines = (out / "records.jsonl").read_text().splitlines(keepends=True)
    gaps = {5, 17}
    (out / "records.jsonl").write_text("".join(line for line in lines if json.loads(line)["index"] not in gaps))
    capsys.readouterr()
    assert main(run_args(eval_sandbox, split40, out, *SMALL_RUN)) == 0
    assert f"{len(gaps)} run, {split40.count - len(gaps)} already recorded" in capsys.readouterr().err
    indices = [record["index"] for record in records_of(out)]
    assert sorted(indices) == list(range(split40.count))
    assert set(indices[-len(gaps):]) == gaps   # appended by the resume: the gaps were what ran
    assert read_json(out / "summary.json") == read_json(baseline40 / "summary.json")


def test_a_sample_recorded_twice_is_refused(tmp_path):
    (tmp_path / "records.jsonl").write_text('{"index": 3}\n{"index": 3}\n')
    with pytest.raises(RunDirError, match="sample 3 is recorded twice"):
        RecordStore(tmp_path)


def test_resuming_into_another_runs_directory_is_refused(eval_sandbox, split40, baseline40, capsys):
    from services.evaluation.cli import main

    assert main(run_args(eval_sandbox, split40, baseline40, *SMALL_RUN, "--dpi", "72")) == 2
    assert "holds another run (it differs in: protocol)" in capsys.readouterr().err
