"""The pod-isolated mode (PERCEPT_SANDBOX_ISOLATION=pod), as the Helm chart runs the runner.

No namespaces are created (a pod's RuntimeDefault seccomp profile refuses them); each render is
still a fresh process with seccomp (no new processes), rlimits, an emptied environment and a
private directory, and the runner says so at start-up and on /metrics. As in the chart's pods the
runner runs as uid 10001 (when the tests run as root: through setpriv, in a mount namespace where
the interpreter and the checkout are reachable by that uid).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from percept_sandbox.api import sandbox_pb2
from percept_sandbox.isolation import root_is_read_only
from tests.sandbox.harness import REPO, START_TIMEOUT_S, SandboxServer, world_enterable_view_steps

POD_UID = 10001  # the chart's runAsUser


class PodRunner(SandboxServer):
    """`percept-sandbox serve` in the pod mode, as the unprivileged uid the chart runs it as."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scratch = Path(tempfile.mkdtemp(prefix="percept-pod-"))
        self.scratch.chmod(0o777)

    def start(self) -> "PodRunner":
        command = [sys.executable, "-m", "percept_sandbox.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--metrics-host", "127.0.0.1",
                   "--metrics-port", str(self.metrics_port), "--workers", str(self.workers),
                   "--queue-size", str(self.queue_size)]
        if os.geteuid() == 0:
            steps = ["set -e", *world_enterable_view_steps(self.scratch),
                     f"exec setpriv --reuid {POD_UID} --regid {POD_UID} --clear-groups --inh-caps=-all -- "
                     f"env HOME={self.scratch} XDG_CACHE_HOME={self.scratch}/cache PYTHONPATH={REPO} "
                     + " ".join(f"'{part}'" for part in command)]
            command = ["unshare", "-m", "--propagation", "private", "sh", "-c", "\n".join(steps)]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=self.scratch, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox server exited with {self.process.returncode}:\n{self.log_text()}")
            if self.health() == 1:  # SERVING
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"sandbox server did not become healthy:\n{self.log_text()}")

PROBE = """
import json, os, resource
import matplotlib.pyplot as plt
try:
    os.fork()
    forked = True
except PermissionError:
    forked = False
print(json.dumps({"env": sorted(os.environ), "cwd": os.getcwd(), "cwd_mode": oct(os.stat(".").st_mode & 0o777),
                  "forked": forked, "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
                  "pid_1_visible": os.path.exists("/proc/1/cmdline"), "uid": os.getuid()}))
plt.plot([0, 1])
"""


@pytest.fixture(scope="module")
def pod_runner():
    server = PodRunner(workers=1, queue_size=1, env={"PERCEPT_SANDBOX_ISOLATION": "pod"})
    with server:
        yield server
    subprocess.run(["rm", "-rf", str(server.scratch)], check=False)


def _layers(server: SandboxServer) -> dict[str, float]:
    return {layer: server.metric_value("percept_sandbox_isolation_layer_enabled", f'layer="{layer}"')
            for layer in ("namespaces", "seccomp", "rlimits", "fresh_process", "clean_environment",
                          "private_directory", "read_only_root")}


def test_each_render_is_confined_without_namespaces(pod_runner):
    with pod_runner.client() as client:
        first, second = client.render(PROBE), client.render(PROBE)
    assert first.status == second.status == sandbox_pb2.RENDER_STATUS_OK, first.detail
    seen = [json.loads(r.stdout.text) for r in (first, second)]
    for probe in seen:
        assert probe["forked"] is False  # seccomp refuses new processes
        assert probe["cwd_mode"] == "0o700"  # a private directory
        assert probe["nofile"] == 128  # rlimits (PERCEPT_SANDBOX_MAX_OPEN_FILES)
        assert not [name for name in probe["env"] if name.startswith("PERCEPT_")]  # the runner's env is gone
        assert probe["pid_1_visible"]  # no PID namespace: the pod's own wall stands in for it
        if os.geteuid() == 0:
            assert probe["uid"] == POD_UID  # the chart's non-root identity
    assert seen[0]["cwd"] != seen[1]["cwd"]  # a fresh process and directory per render


def test_the_active_layers_are_on_metrics_and_in_the_start_up_log(pod_runner):
    layers = _layers(pod_runner)
    assert layers["namespaces"] == 0
    assert all(layers[name] == 1 for name in ("seccomp", "rlimits", "fresh_process", "clean_environment",
                                               "private_directory"))
    assert pod_runner.metric_value("percept_sandbox_isolation_mode", 'mode="pod"') == 1
    assert pod_runner.metric_value("percept_sandbox_isolation_mode", 'mode="jail"') == 0
    log = pod_runner.log_text()
    assert "isolation mode pod: active layers: seccomp, rlimits, fresh_process" in log
    assert "inactive: namespaces" in log and "NetworkPolicy denying all egress" in log
    assert "INSECURE" not in log  # the mode is a design, not a fallback
    assert layers["read_only_root"] == (1 if root_is_read_only() else 0)  # measured, not assumed
    if not root_is_read_only():
        assert "expects a read-only root filesystem" in log


def test_the_jail_mode_reports_its_namespaces(sandbox_server):
    assert sandbox_server.metric_value("percept_sandbox_isolation_mode", 'mode="jail"') == 1
    assert _layers(sandbox_server)["namespaces"] == 1


def test_an_unknown_mode_stops_start_up():
    server = SandboxServer(env={"PERCEPT_SANDBOX_ISOLATION": "none"})
    with pytest.raises(RuntimeError, match="isolation mode must be one of jail, pod"):
        server.start()
