"""The launcher's process handling with a real tritonserver: clean stop (no orphaned
python-backend stubs, ports free again), the `make up` CLI, and a clear error when a
model does not load."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from services.common.net import find_free_ports, port_is_free
from services.models.tokenfd.triton import contract
from services.triton.launcher import REPO_ROOT, TritonLaunchError, TritonServer, process_group_members

SHM = Path("/dev/shm")


def _wait_until(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_stop_takes_the_whole_process_group_and_frees_the_ports(tokenfd_artifacts, triton_stub_site):
    server = TritonServer(tokenfd_artifacts.repository, http_port=0, grpc_port=0, metrics_port=0)
    ports = (server.http_port, server.grpc_port, server.metrics_port)
    with server:
        pgid = server.pid
        assert os.getpgid(pgid) == pgid  # its own group, apart from pytest's
        # tritonserver + one stub per python model instance (1 encoder + 2 locate)
        assert len(process_group_members(pgid)) >= 4
        workspace = server.workspace
        assert list(SHM.glob(f"{server.shm_prefix}*"))  # the python backend's regions, named by us
    assert server.process is None
    assert not list(SHM.glob(f"{server.shm_prefix}*"))
    assert process_group_members(pgid) == []
    assert all(port_is_free(port) for port in ports)
    assert not workspace.exists()  # the assembled backend directory is removed
    assert "successfully unloaded" in server.logs()
    assert server.stop() is None  # idempotent


def test_cli_serves_until_sigterm(tokenfd_artifacts, triton_stub_site):
    http, grpc, metrics = find_free_ports(3)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    launcher = subprocess.Popen(
        [sys.executable, "-m", "services.triton.launcher", "--model-repository", str(tokenfd_artifacts.repository),
         "--http-port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        first_line = launcher.stdout.readline()
        match = re.search(r"tritonserver pid (\d+)", first_line)
        assert match, first_line
        server_pid = int(match.group(1))
        assert _wait_until(lambda: _ready(f"http://127.0.0.1:{http}"), 180), "not ready"
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/v2/models/{contract.TOKENFD_LOCATE}/ready") as r:
            assert r.status == 200
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=60) == 0
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    assert process_group_members(server_pid) == []
    assert all(port_is_free(p) for p in (http, grpc, metrics))


def test_a_model_that_fails_to_load_is_reported(tokenfd_artifacts, triton_stub_site, tmp_path):
    broken = tmp_path / "repo"
    shutil.copytree(tokenfd_artifacts.repository, broken)
    (broken / contract.TOKENFD_ENCODER / "1" / "encoder.cpu.onnx").unlink()
    server = TritonServer(broken, http_port=0, grpc_port=0, metrics_port=0)
    with pytest.raises(TritonLaunchError, match=contract.TOKENFD_ENCODER) as caught:
        with server:
            pass
    assert "encoder.cpu.onnx" in str(caught.value)
    assert server.process is None
    assert not list(SHM.glob(f"{server.shm_prefix}*"))


def test_the_server_does_not_outlive_a_killed_launcher(tokenfd_artifacts, triton_stub_site, tmp_path):
    """A launcher killed hard (no chance to stop anything) still takes its server along."""
    script = (
        "import sys, time\n"
        "from services.triton.launcher import TritonServer\n"
        "server = TritonServer(sys.argv[1], http_port=0, grpc_port=0, metrics_port=0, workspace=sys.argv[2])\n"
        "server.start(); server.wait_ready()\n"
        "print(server.pid, server.http_port, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", script, str(tokenfd_artifacts.repository), str(tmp_path / "ws")],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        server_pid, http_port = map(int, parent.stdout.readline().split())
        assert process_group_members(server_pid)
        parent.kill()
        parent.wait()
        assert _wait_until(lambda: not process_group_members(server_pid), 60), "tritonserver outlived its launcher"
        assert port_is_free(http_port)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
