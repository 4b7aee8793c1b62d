"""`percept-eval run` with no sandbox given and none running starts its own for the run.

The command a new user types, as its own process: it says on stderr that it starts a local
sandbox-runner, finishes the split, and leaves no process behind (every process that ever
descended from it is gone afterwards), also when it is interrupted with Ctrl-C or SIGTERM.
A sandbox address that was given and does not answer is an error, and nothing is started.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.common.net import find_free_ports, port_is_free
from services.evaluation import settings
from services.evaluation.cli import main
from services.evaluation.local_sandbox import answers
from tests.sandbox.harness import process_table

from .conftest import make_split, read_json

REPO = Path(__file__).resolve().parents[2]
STARTING = re.compile(r"starting a local one for this run at 127\.0\.0\.1:(\d+)")


@pytest.fixture(scope="module")
def split6(eval_sandbox, tmp_path_factory):
    return make_split(eval_sandbox, tmp_path_factory.mktemp("split6"), 6, seed=11)


@pytest.fixture
def default_address_free():
    if answers(settings.SANDBOX_URL.default):
        pytest.skip(f"something answers at the default sandbox address {settings.SANDBOX_URL.default} "
                    "(a `make up`?); this test needs it free")


class Watched:
    """percept-eval as its own process with no sandbox configured; records every process that
    descends from it while it runs, and its stderr line by line."""

    def __init__(self, args: list[str]) -> None:
        env = {key: value for key, value in os.environ.items() if key != settings.SANDBOX_URL.name}
        env["PYTHONPATH"] = str(REPO)
        # SIGINT as at a terminal, even when this test runs in a background job (which starts with it ignored)
        self.process = subprocess.Popen([sys.executable, "-m", "services.evaluation", *args], cwd=REPO, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.seen: dict[int, str] = {}
        self.stderr: list[str] = []
        self._readers = [threading.Thread(target=self._watch, daemon=True),
                         threading.Thread(target=self._read, daemon=True)]
        for thread in self._readers:
            thread.start()

    def _watch(self) -> None:
        while self.process.poll() is None:
            table = process_table()
            frontier = [self.process.pid]
            while frontier:
                parent = frontier.pop()
                for pid, (ppid, _uid, command) in table.items():
                    if ppid == parent:
                        self.seen.setdefault(pid, command)
                        frontier.append(pid)
            time.sleep(0.1)

    def _read(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line)

    def wait_for(self, text: str, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.stderr):
            assert self.process.poll() is None, "".join(self.stderr)
            assert time.monotonic() < deadline, f"no {text!r} on stderr:\n{''.join(self.stderr)}"
            time.sleep(0.05)

    def finish(self, timeout_s: float = 600) -> str:
        self.process.wait(timeout=timeout_s)
        for thread in self._readers:
            thread.join(timeout=10)
        return "".join(self.stderr)

    def sandbox_port(self) -> int:
        return int(STARTING.search("".join(self.stderr)).group(1))

    def left_behind(self) -> list[str]:
        """Processes that descended from it and still run (same pid and command line)."""
        table = process_table()
        return [f"{pid} {command}" for pid, command in self.seen.items()
                if pid in table and table[pid][2] == command]


def test_a_run_with_no_sandbox_starts_one_and_leaves_nothing_behind(split6, tmp_path, default_address_free):
    out = tmp_path / "out"
    run = Watched(["run", "--data", str(split6.data), "--images", str(split6.images), "--backend", "reference",
                   "--out", str(out)])
    stderr = run.finish()
    assert run.process.returncode == 0, stderr
    assert f"no sandbox-runner at {settings.SANDBOX_URL.default}; starting a local one" in stderr
    assert "local sandbox-runner stopped" in stderr
    summary = read_json(out / "summary.json")
    assert summary["complete"] and summary["counts"]["total"] == split6.count and summary["exec_rate"] == 100.0
    assert any("percept_sandbox.cli serve" in command for command in run.seen.values())   # it really ran one
    assert run.left_behind() == []
    assert port_is_free(run.sandbox_port())
    assert (out / "logs" / "sandbox-runner.log").is_file()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_stops_its_sandbox(split200, tmp_path, default_address_free, signum):
    # 200 figures (about 40 s of rendering), so the signal comes while the run is under way
    run = Watched(["run", "--data", str(split200.data), "--images", str(split200.images), "--backend", "reference",
                   "--out", str(tmp_path / "out")])
    run.wait_for("local sandbox-runner ready")
    time.sleep(0.5)   # into the run: the harness is generating and rendering
    run.process.send_signal(signum)
    stderr = run.finish(timeout_s=120)
    assert run.process.returncode == (130 if signum == signal.SIGINT else 128 + signal.SIGTERM), stderr
    assert "local sandbox-runner stopped" in stderr
    assert "Traceback" not in stderr
    assert any("percept_sandbox.cli serve" in command for command in run.seen.values())
    assert run.left_behind() == []
    assert port_is_free(run.sandbox_port())


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_given_sandbox_that_does_not_answer_is_an_error(split6, tmp_path, monkeypatch, capsys, how):
    target = f"127.0.0.1:{find_free_ports(1)[0]}"
    args = ["run", "--data", str(split6.data), "--images", str(split6.images), "--out", str(tmp_path / "out")]
    if how == "flag":
        args += ["--sandbox", target]
    else:
        monkeypatch.setenv(settings.SANDBOX_URL.name, target)
    assert main(args) == 1
    stderr = capsys.readouterr().err
    assert f"no sandbox-runner answers at {target}" in stderr
    assert "starting a local one" not in stderr
    assert not (tmp_path / "out").exists()
