"""The jail as the Kubernetes pod runs it: started by an unprivileged user.

As root, the test switches to uid 10001 (as in the image) with setpriv, in a
private mount namespace where the Python installation and the checkout are
reachable for that user (either may live under a directory only root may enter:
root's home, a checkout under a 0700 `mktemp -d` directory).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .harness import CORPUS, REPO, in_world_enterable_view

UID = 10001


def _as_unprivileged_user(command: list[str], scratch: Path) -> subprocess.CompletedProcess:
    env = f"HOME={scratch} XDG_CACHE_HOME={scratch}/cache PYTHONPATH={REPO}"
    prefix = f"setpriv --reuid {UID} --regid {UID} --clear-groups --inh-caps=-all -- env {env}"
    return in_world_enterable_view(command, scratch, prefix=prefix)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"),
                    reason="switching to an unprivileged user needs root, setpriv and unshare")
def test_an_unprivileged_runner_still_gets_the_full_jail():
    # pytest's own temporary directories are private to root: use one the user can enter.
    with tempfile.TemporaryDirectory(prefix="percept-nonroot-") as scratch:
        tmp_path = Path(scratch)
        tmp_path.chmod(0o777)
        _check_unprivileged_render(tmp_path)


def _check_unprivileged_render(tmp_path: Path) -> None:
    program = tmp_path / "probe.py"
    program.write_text(
        "import os, socket\n"
        "print('uid:', os.getuid(), 'pid:', os.getpid())\n"
        "try:\n    socket.socket(socket.AF_INET)\nexcept OSError as exc:\n    print('socket:', type(exc).__name__)\n"
        "print('root:', sorted(os.listdir('/')))\n"
        + (CORPUS / "s01_sine_cosine.py").read_text())
    program.chmod(0o644)
    done = _as_unprivileged_user([sys.executable, "-m", "percept_sandbox.cli", "render", str(program),
                                  "--out", str(tmp_path / "out")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["isolation"] == {"namespaces": True, "seccomp": True, "rlimits": True}
    assert report["status"] == "OK" and len(report["images"]) == 1
    lines = report["stdout_tail"].splitlines()
    assert lines[0] == "uid: 0 pid: 1"  # root of its own namespaces only
    assert lines[1] == "socket: PermissionError"
    assert "proc" not in lines[2] and "home" not in lines[2]
    assert Path(report["images"][0]).stat().st_uid == UID  # the CLI itself ran as the unprivileged user
