"""`percept-sandbox render`: one file through the same jail, one JSON object out."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from .harness import CORPUS, in_world_enterable_view

# Forbids creating user namespaces, as a container runtime's default seccomp profile does.
WITHOUT_USER_NAMESPACES = textwrap.dedent("""
    import errno, os, sys
    import pyseccomp as s
    rules = s.SyscallFilter(s.ALLOW)
    rules.add_rule(s.ERRNO(errno.EPERM), "unshare")
    rules.add_rule(s.ERRNO(errno.EPERM), "clone", s.Arg(0, s.MASKED_EQ, 0x10000000, 0x10000000))
    rules.add_rule(s.ERRNO(errno.ENOSYS), "clone3")
    rules.load()
    os.execv(sys.executable, [sys.executable, "-m", "percept_sandbox.cli", *sys.argv[1:]])
""")


def run_cli(*args: str, cwd: Path, env: dict | None = None, restricted: bool = False):
    prefix = [sys.executable, "-c", WITHOUT_USER_NAMESPACES] if restricted else [
        sys.executable, "-m", "percept_sandbox.cli"]
    return subprocess.run([*prefix, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


def test_render_prints_one_json_object_and_writes_the_images(tmp_path):
    program = CORPUS / "s15_two_figures.py"
    done = run_cli("render", str(program), "--dpi", "50", "--out", str(tmp_path / "images"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "OK"
    assert report["isolation"] == {"namespaces": True, "seccomp": True, "rlimits": True}
    assert [Path(p).name for p in report["images"]] == ["s15_two_figures-0.png", "s15_two_figures-1.png"]
    for path, figure in zip(report["images"], report["figures"], strict=True):
        assert Path(path).read_bytes().startswith(b"\x89PNG")
        assert (figure["width_px"], figure["height_px"]) == (250, 175)
    assert report["trace"]["dpi"] == 50
    assert [f["axes"][0]["title"] for f in report["trace"]["figures"]] == ["f(x) = x³ − x", "f'(x) = 3x² − 1"]
    assert set(report["timings"]) == {"wall_s", "cpu_s", "peak_memory_bytes"}


def test_render_svg_into_the_current_directory(tmp_path):
    done = run_cli("render", str(CORPUS / "s09_polar_rose.py"), "--format", "svg", "--no-trace", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["trace"] is None
    assert (tmp_path / "s09_polar_rose-0.svg").read_bytes().lstrip().startswith(b"<?xml")


def test_failed_render_exits_one_with_the_status(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text("import time\ntime.sleep(30)\n")
    done = run_cli("render", str(script), "--timeout", "1", cwd=tmp_path)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["status"] == "TIMEOUT" and report["images"] == []


def test_bad_invocations_exit_two(tmp_path):
    assert run_cli("render", str(tmp_path / "missing.py"), cwd=tmp_path).returncode == 2
    script = tmp_path / "ok.py"
    script.write_text("x = 1\n")
    done = run_cli("render", str(script), "--dpi", "100000", cwd=tmp_path)
    assert done.returncode == 2 and "dpi" in done.stderr


def _insecure_render(program: str, tmp_path: Path, *extra: str, env: dict | None = None):
    """The insecure CLI where user namespaces are forbidden. As root its children run as the
    jail uid straight on the host's filesystem, so it runs in a mount namespace where the
    interpreter and the checkout are reachable by that uid even below a private directory."""
    if os.geteuid() != 0:
        return run_cli("render", program, *extra, cwd=tmp_path, env=env, restricted=True)
    scratch = Path(tempfile.mkdtemp(prefix="view-", dir=tmp_path))
    return in_world_enterable_view([sys.executable, "-c", WITHOUT_USER_NAMESPACES, "render", program, *extra],
                                   scratch, env=env)


def test_refuses_to_run_without_user_namespaces_unless_told_to(tmp_path):
    program = str(CORPUS / "s01_sine_cosine.py")
    refused = run_cli("render", program, cwd=tmp_path, restricted=True)
    assert refused.returncode == 3
    assert "PERCEPT_SANDBOX_INSECURE_NO_ISOLATION" in refused.stderr
    assert not list(tmp_path.glob("*.png"))

    # Modules nobody imported before the program: the interpreter's, the environment's and the project's own
    # files must be reachable by the identity renders run as.
    lazy = tmp_path / "lazy_imports.py"
    lazy.write_text("import xml.dom.minidom, matplotlib.sankey, percept_sandbox.jail.prefault\n"
                    "print('lazy imports: ok')\n" + (CORPUS / "s01_sine_cosine.py").read_text())
    allowed = _insecure_render(str(lazy), tmp_path, "--insecure-no-isolation", "--out", str(tmp_path))
    assert allowed.returncode == 0, allowed.stderr + allowed.stdout[-2000:]
    report = json.loads(allowed.stdout)
    assert report["isolation"] == {"namespaces": False, "seccomp": True, "rlimits": True}
    assert "lazy imports: ok" in report["stdout_tail"]
    assert "INSECURE" in allowed.stderr

    by_env = _insecure_render(program, tmp_path, "--out", str(tmp_path),
                              env={"PERCEPT_SANDBOX_INSECURE_NO_ISOLATION": "1"})
    assert by_env.returncode == 0, by_env.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the jail uid differs from the runner's only when run as root")
def test_insecure_mode_refuses_at_start_when_the_jail_uid_cannot_reach_its_files(tmp_path):
    # Renders without namespaces run as the jail uid on the host's filesystem: a private
    # directory on the way to what they load (here the runtime directory) must stop the start.
    with tempfile.TemporaryDirectory(prefix="percept-insecure-") as scratch:  # pytest's own is private
        os.chmod(scratch, 0o755)
        private = Path(scratch, "private")
        private.mkdir(mode=0o700)
        refused = _insecure_render(str(CORPUS / "s01_sine_cosine.py"), tmp_path, "--insecure-no-isolation",
                                   env={"PERCEPT_SANDBOX_RUNTIME_DIR": str(private / "runtime")})
    assert refused.returncode == 3, refused.stderr
    assert f"cannot reach {private}" in refused.stderr and "uid 65534" in refused.stderr
    assert refused.stdout == ""
