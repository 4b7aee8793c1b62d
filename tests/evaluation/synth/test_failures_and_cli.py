"""A family program that does not render stops the run and leaves nothing behind; the CLI
refuses bad arguments with exit status 2 and honours an Indexed Job's shard."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from services.evaluation.shards import Shard
from services.evaluation.synth import __main__ as synth_main
from services.evaluation.synth import families
from services.evaluation.synth.engine import Plan, generate
from services.evaluation.synth.render import RenderFailed
from tests.sandbox.harness import free_port

from .conftest import DPI, SEED

BROKEN_PROGRAMS = {
    "raises": "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nraise ValueError('a family bug')\n",
    "draws_nothing": "value_count = 3\nprint(value_count)\n",
}


def leftovers(directory) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("kind", sorted(BROKEN_PROGRAMS))
def test_a_family_program_that_fails_to_render_stops_the_run_and_leaves_nothing(renderer, tmp_path, monkeypatch,
                                                                                   kind):
    monkeypatch.setitem(families.FAMILIES, "broken", lambda rng: BROKEN_PROGRAMS[kind])
    previous = tmp_path / "out" / "triplets.jsonl"
    previous.parent.mkdir()
    previous.write_text("an earlier corpus\n")
    # Sample 0 (a working family) is rendered and staged before sample 1 fails.
    plan = Plan(count=4, seed=SEED, families=("function_plot", "broken"), shard=Shard.whole())
    with pytest.raises(RenderFailed, match=r"family 'broken' sample 1 \(seed \d+\)"):
        generate(plan, renderer, out=tmp_path / "out", split=tmp_path / "split", concurrency=1)
    assert leftovers(tmp_path / "out") == ["triplets.jsonl"] and previous.read_text() == "an earlier corpus\n"
    assert leftovers(tmp_path / "split") == []
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["triplets.jsonl"]  # no staging directory


@pytest.mark.parametrize("argv, message", [
    (["--count", "3"], "give --out DIR"),
    (["--out", "OUT", "--families", "function_plot,sudoku"], "unknown families sudoku"),
    (["--out", "OUT", "--shard", "3/2"], "shard index must be in 0..1"),
    (["--out", "OUT", "--shard", "half"], "shard must look like i/n"),
    (["--out", "OUT", "--count", "0"], "must be positive"),
    (["--out", "OUT", "--concurrency", "100000"], "at most 256"),
    (["--out", "OUT", "--sandbox", "no-port"], "host:port"),
])
def test_bad_arguments_exit_2_with_a_message_and_write_nothing(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert synth_main.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_unreachable_sandbox_exits_1_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert synth_main.main(["--out", str(out), "--count", "2", "--sandbox", f"127.0.0.1:{free_port()}"]) == 1
    assert "UNAVAILABLE" in capsys.readouterr().err
    assert leftovers(out) == []


def test_list_families_names_every_family(capsys):
    assert synth_main.main(["--list-families"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(families.FAMILIES)


def test_the_cli_takes_its_shard_from_an_indexed_job(synth_sandbox, corpus, tmp_path):
    """As a pod of a Kubernetes Indexed Job: JOB_COMPLETION_INDEX and the shard count from the Job."""
    environment = dict(os.environ, JOB_COMPLETION_INDEX="1", PERCEPT_EVAL_SHARD_COUNT="4",
                       PERCEPT_SYNTH_SANDBOX_URL=synth_sandbox.target)
    count = len((corpus.triplets / "triplets.jsonl").read_text().splitlines())
    finished = subprocess.run(
        [sys.executable, "-m", "services.evaluation.synth", "--out", str(tmp_path), "--count", str(count),
         "--seed", str(SEED), "--dpi", str(DPI)], env=environment, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert "percept-eval progress:" in finished.stdout  # plain lines, not a bar, when not on a terminal
    (shard_file,) = tmp_path.glob("*.jsonl")
    assert shard_file.name == "triplets.shard-00001-of-00004.jsonl"
    whole = (corpus.triplets / "triplets.jsonl").read_text().splitlines()
    assert shard_file.read_text().splitlines() == whole[1::4]
    assert [json.loads(line)["index"] for line in whole[1::4]] == list(range(1, count, 4))


def test_a_killed_run_leaves_no_output_and_the_next_run_clears_its_staging(synth_sandbox, tmp_path):
    """SIGKILL mid-run (images already staged): no JSONL and no images in place; rerun: no staging left."""
    environment = dict(os.environ, PERCEPT_SYNTH_SANDBOX_URL=synth_sandbox.target)
    command = [sys.executable, "-m", "services.evaluation.synth", "--out", str(tmp_path), "--seed", str(SEED),
               "--dpi", str(DPI), "--concurrency", "1"]
    run = subprocess.Popen([*command, "--count", "200"], env=environment, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".staging-*/images/*.png")):
            assert run.poll() is None and time.monotonic() < deadline, "the run never staged an image"
            time.sleep(0.05)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    assert [p.name for p in tmp_path.iterdir()] == [p.name for p in tmp_path.glob(".staging-triplets.jsonl-*")]
    assert synth_main.main([*command[3:], "--count", "2", "--sandbox", synth_sandbox.target]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "triplets.jsonl"]
