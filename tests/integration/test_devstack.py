"""`make up` as a user runs it: every component starts, answers, and Ctrl-C leaves nothing behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from services.common.net import find_free_ports, port_is_free


def test_up_serves_then_ctrl_c_stops_everything(tokenfd_artifacts, triton_stub_site, tmp_path):
    ports = find_free_ports(6)
    names = ["PERCEPT_TRITON_HTTP_PORT", "PERCEPT_TRITON_GRPC_PORT", "PERCEPT_TRITON_METRICS_PORT",
             "PERCEPT_SANDBOX_GRPC_PORT", "PERCEPT_SANDBOX_METRICS_PORT", "PERCEPT_GATEWAY_PORT"]
    env = {**os.environ, **{name: str(port) for name, port in zip(names, ports)},
           "PERCEPT_DEVSTACK_DIR": str(tmp_path / "devstack")}
    artifacts = tokenfd_artifacts.repository.parent
    process = subprocess.Popen([sys.executable, "-m", "services.devstack", "up", "--artifacts", str(artifacts)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "percept is up" in line:
                break
        assert any("percept is up" in line for line in output), "".join(output)
        gateway = f"http://127.0.0.1:{ports[5]}"
        assert httpx.get(gateway + "/readyz", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ports[4]}/metrics", timeout=10).status_code == 200
        state = json.loads((tmp_path / "devstack" / "state.json").read_text())
        groups = state["groups"]
        assert set(groups) == {"triton", "sandbox-runner", "gateway"}
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        rest, _ = process.communicate(timeout=90)
    output.append(rest)
    assert process.returncode == 0, "".join(output)
    assert "stopped." in rest
    assert not (tmp_path / "devstack" / "state.json").exists()
    for port in ports:
        assert port_is_free(port), f"port {port} still taken after Ctrl-C"
    for name, pgid in groups.items():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"{name}'s process group {pgid} still has processes")
