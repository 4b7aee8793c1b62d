"""`make up` as a user runs it: every component starts, answers, is restarted when it dies,
the stack gives up on one that keeps failing, and Ctrl-C leaves nothing behind."""
from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from PIL import Image, ImageDraw

from services.common.net import find_free_ports, port_is_free
from services.triton.launcher import process_group_members

if TYPE_CHECKING:  # imported where used, like the module's other names
    from services.devstack import Component

PORT_SETTINGS = ["PERCEPT_TRITON_HTTP_PORT", "PERCEPT_TRITON_GRPC_PORT", "PERCEPT_TRITON_METRICS_PORT",
                 "PERCEPT_SANDBOX_GRPC_PORT", "PERCEPT_SANDBOX_METRICS_PORT", "PERCEPT_CODEPERCEPTION_GRPC_PORT",
                 "PERCEPT_CODEPERCEPTION_METRICS_PORT", "PERCEPT_GATEWAY_PORT"]


class Stack:
    """`python -m services.devstack up` on free ports, its output collected by a reader thread."""

    def __init__(self, artifacts: Path, state_dir: Path, **settings: str) -> None:
        self.ports = dict(zip(PORT_SETTINGS, find_free_ports(len(PORT_SETTINGS)), strict=True))
        self.state_dir = state_dir
        env = {**os.environ, **{name: str(port) for name, port in self.ports.items()},
               "PERCEPT_DEVSTACK_DIR": str(state_dir), **settings}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.devstack", "up", "--artifacts", str(artifacts)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout_s: float, after: int = 0) -> int:
        """Index of the first output line from `after` on that matches; fails with the output if none."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for index, line in enumerate(self.lines[after:], start=after):
                if re.search(pattern, line):
                    return index
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r} within {timeout_s:.0f}s:\n{self.output}")

    def interrupt(self, timeout_s: float = 120) -> int:
        """What Ctrl-C in the terminal does; returns devstack's exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=timeout_s)
        self._reader.join(timeout=10)
        return code

    def url(self, setting: str) -> str:
        return f"http://127.0.0.1:{self.ports[setting]}"

    def assert_nothing_left(self, groups: dict[str, int], more_pids: list[int] = ()) -> None:
        assert not (self.state_dir / "state.json").exists()
        for setting, port in self.ports.items():
            assert port_is_free(port), f"port {port} ({setting}) still taken\n{self.output}"
        for name, pgid in groups.items():
            assert process_group_members(pgid) == [], f"{name}'s process group {pgid} still has processes"
        for pid in more_pids:
            assert process_group_members(pid) == [], f"process group {pid} still has processes"


def _state(stack: Stack) -> dict[str, int]:
    return json.loads((stack.state_dir / "state.json").read_text())["groups"]


def _tritonserver_pids(state_dir: Path) -> list[int]:
    """The launcher prints the server's pid (its process group: the server and its stubs) on each start."""
    log = (state_dir / "triton.log").read_text()
    return [int(pid) for pid in re.findall(r"tritonserver pid (\d+)", log)]


def _png() -> bytes:
    image = Image.new("RGB", (320, 96), "white")
    ImageDraw.Draw(image).text((10, 40), "percept", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _locate(gateway: str) -> httpx.Response:
    body = {"query": "percept", "image": base64.b64encode(_png()).decode(), "heatmap_format": "none"}
    return httpx.post(f"{gateway}/v1/text/locate", json=body, timeout=60)


def _locate_until_ok(gateway: str, timeout_s: float) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = _locate(gateway)
            if response.status_code == 200 or time.monotonic() > deadline:
                return response
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack_artifacts(tokenfd_artifacts) -> Path:
    """What `make models` leaves in artifacts/: the model repository and the reference backend's
    dataset (built by its own CLI, through the real sandbox)."""
    artifacts = tokenfd_artifacts.repository.parent
    if not (artifacts / "stem2code-sample" / "data.jsonl").exists():
        subprocess.run([sys.executable, "-m", "services.codeperception.sample_dataset", "--out",
                        str(artifacts / "stem2code-sample")], check=True, capture_output=True, timeout=300)
    return artifacts


def _image_to_code(target: str, image: bytes):
    import grpc

    from services.codeperception.protos import codeperception_pb2, codeperception_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        return codeperception_pb2_grpc.CodePerceptionServiceStub(channel).ImageToCode(
            codeperception_pb2.ImageToCodeRequest(image=image), timeout=60)


def test_up_serves_restarts_a_killed_triton_then_ctrl_c_stops_everything(stack_artifacts, triton_stub_site,
                                                                         tmp_path):
    state_dir = tmp_path / "devstack"
    stack = Stack(stack_artifacts, state_dir, PERCEPT_DEVSTACK_RESTART_BACKOFF_S="1",
                  PERCEPT_DEVSTACK_STABLE_S="3")
    gateway = stack.url("PERCEPT_GATEWAY_PORT")
    killed: list[int] = []
    try:
        stack.wait_for("percept is up", 300)
        assert httpx.get(gateway + "/readyz", timeout=10).status_code == 200
        assert httpx.get(stack.url("PERCEPT_SANDBOX_METRICS_PORT") + "/metrics", timeout=10).status_code == 200
        assert _locate(gateway).status_code == 200
        groups = _state(stack)
        assert set(groups) == {"triton", "sandbox-runner", "codeperception", "gateway"}
        # The code-perception service, after the sandbox, serving the reference backend out of the box.
        codeperception = f"127.0.0.1:{stack.ports['PERCEPT_CODEPERCEPTION_GRPC_PORT']}"
        assert re.search(r"code-perception gRPC\s+" + re.escape(codeperception), stack.output), stack.output
        assert stack.output.index("starting sandbox-runner") < stack.output.index("starting codeperception")
        answer = _image_to_code(codeperception,
                                (stack_artifacts / "stem2code-sample" / "images" / "s01_sine_cosine.png").read_bytes())
        assert answer.backend == "reference" and answer.fidelity.aggregate >= 0.99

        # tritonserver dies hard, stubs and all: devstack restarts its launcher, the rest stays up.
        (server_pid,) = _tritonserver_pids(state_dir)
        killed.append(server_pid)
        os.killpg(server_pid, signal.SIGKILL)
        exited = stack.wait_for(r"triton exited unexpectedly with code \d+; restarting it in 1\.0s \(attempt 1/5\)", 60)
        healthy = stack.wait_for(r"triton is healthy again \(restart attempt 1/5\)", 300, after=exited)
        stack.wait_for(r"triton has stayed up for 3s; its count of failed restarts is reset", 30, after=healthy)
        log = (state_dir / "triton.log").read_text()
        assert re.search(r"\[devstack [\d:]+\] triton exited unexpectedly with code \d+; restarting it in 1\.0s "
                         r"\(attempt 1/5\)", log), log[-3000:]
        assert re.search(r"\[devstack [\d:]+\] restarting triton \(attempt 1/5\)", log), log[-3000:]
        new_groups = _state(stack)
        assert new_groups["triton"] != groups["triton"]
        assert {k: v for k, v in new_groups.items() if k != "triton"} == \
            {k: v for k, v in groups.items() if k != "triton"}  # the gateway and the sandbox were left alone
        assert httpx.get(stack.url("PERCEPT_TRITON_HTTP_PORT") + "/v2/health/ready", timeout=10).status_code == 200
        response = _locate_until_ok(gateway, 60)
        assert response.status_code == 200, response.text
        assert response.json()["tokens"], response.text
        pids = _tritonserver_pids(state_dir)
        assert len(pids) == 2 and pids[0] == server_pid
        assert process_group_members(server_pid) == []  # the killed server left nothing running
        groups = new_groups
    finally:
        code = stack.interrupt()
    assert code == 0, stack.output
    assert "stopped." in stack.output
    stack.assert_nothing_left(groups, _tritonserver_pids(state_dir))


def test_a_component_that_keeps_failing_stops_the_stack(tokenfd_artifacts, triton_stub_site, tmp_path):
    """tritonserver replaced by a binary that exits at once: two restarts, then devstack gives up."""
    state_dir = tmp_path / "devstack"
    stack = Stack(tokenfd_artifacts.repository.parent, state_dir, PERCEPT_TRITON_SERVER_BINARY="/bin/false",
                  PERCEPT_DEVSTACK_MAX_RESTARTS="2", PERCEPT_DEVSTACK_RESTART_BACKOFF_S="0.2")
    try:
        code = stack.process.wait(timeout=120)
    finally:
        code = stack.interrupt()
    output = stack.output
    assert code == 1, output
    for attempt, delay in ((1, "0.2"), (2, "0.4")):
        assert f"triton exited unexpectedly with code 1; restarting it in {delay}s (attempt {attempt}/2)" in output
    assert re.search(r"error: triton exited unexpectedly with code 1; it failed 2 restart\(s\) in a row, giving up "
                     r"\(see .*triton\.log\)", output), output
    assert "percept is up" not in output and "starting gateway" not in output
    assert output.rstrip().endswith("stopped.")
    log = (state_dir / "triton.log").read_text()
    assert log.count("[devstack") == 5 and "giving up" in log  # 3 exits, 2 restarts
    stack.assert_nothing_left({})


def test_a_malformed_setting_stops_make_up_before_anything_starts(tmp_path):
    state_dir = tmp_path / "devstack"
    env = {**os.environ, "PERCEPT_DEVSTACK_DIR": str(state_dir), "PERCEPT_DEVSTACK_MAX_RESTARTS": "many",
           "PERCEPT_TRITON_HTTP_PORT": "0"}
    result = subprocess.run([sys.executable, "-m", "services.devstack", "up", "--artifacts", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "invalid configuration" in result.stderr
    assert "PERCEPT_DEVSTACK_MAX_RESTARTS='many'" in result.stderr
    assert "PERCEPT_TRITON_HTTP_PORT='0'" in result.stderr
    assert "starting" not in result.stdout and not state_dir.exists()


# --- the supervisor's restart policy, on small real processes (an HTTP server per component) ---

def _http_server(name: str, port: int) -> Component:
    from services.devstack import Component

    return Component(name=name, command=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                     health_url=f"http://127.0.0.1:{port}/", ports=[port], stop_grace_s=5)


class _Running:
    """A Supervisor on its own thread; `error` is what ended it (GiveUp), if anything."""

    def __init__(self, supervisor) -> None:
        self.supervisor = supervisor
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.supervisor.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def stop(self) -> None:
        from services.devstack import stop_all

        self.supervisor.stopping = True
        self.thread.join(timeout=30)
        stop_all(self.supervisor.components)


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _kill_when_up(watch) -> int:
    _wait(lambda: watch.up_since is not None, 30, f"{watch.component.name} to be up")
    pid = watch.component.process.pid
    os.killpg(pid, signal.SIGKILL)
    return pid


def test_staying_up_resets_the_count_and_failing_again_soon_does_not(tmp_path, monkeypatch, capsys):
    from services.devstack import GiveUp, RestartPolicy, Supervisor

    monkeypatch.setenv("PERCEPT_DEVSTACK_DIR", str(tmp_path))
    first, second = find_free_ports(2)
    policy = RestartPolicy(max_restarts=1, backoff_s=0.1, backoff_max_s=0.1, stable_s=1.0, start_timeout_s=30)
    supervisor = Supervisor([_http_server("web", first), _http_server("other", second)], tmp_path, policy)
    running = _Running(supervisor)
    try:
        _wait(lambda: len(supervisor.watches) == 2, 30, "both components to start")
        web, other = supervisor.watches
        _wait(lambda: other.up_since is not None, 30, "other to be up")
        other_pid = other.component.process.pid

        # Killed, restarted, up for longer than stable_s: the count goes back to 0, so a second
        # death is restart 1/1 again instead of the second failure that would give up.
        killed = _kill_when_up(web)
        _wait(lambda: web.component.process.pid != killed and web.up_since is not None, 30, "web restarted")
        _wait(lambda: web.failures == 0, 10, "the count to reset")
        killed = _kill_when_up(web)
        _wait(lambda: web.component.process.pid != killed and web.up_since is not None, 30, "web restarted again")
        assert running.error is None
        # Dying again before stable_s: the second consecutive failure exceeds max_restarts=1.
        _kill_when_up(web)
        _wait(lambda: running.error is not None, 30, "the supervisor to give up")
        assert isinstance(running.error, GiveUp) and "web" in str(running.error)
        assert other.component.process.pid == other_pid and other.failures == 0  # never touched
    finally:
        running.stop()
    out = capsys.readouterr()
    assert out.out.count("web exited unexpectedly with code -9; restarting it in 0.1s (attempt 1/1)") == 2
    assert "web has stayed up for 1s; its count of failed restarts is reset" in out.out
    assert "error: web exited unexpectedly with code -9; it failed 1 restart(s) in a row, giving up" in out.err
    assert all(port_is_free(port) for port in (first, second))
    for watch in supervisor.watches:
        assert process_group_members(watch.component.process.pid) == []


def test_the_restart_delay_doubles_up_to_its_cap():
    from services.devstack import RestartPolicy

    policy = RestartPolicy(max_restarts=9, backoff_s=1.0, backoff_max_s=10.0, stable_s=60, start_timeout_s=180)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_make_down_from_another_shell_stops_everything(stack_artifacts, triton_stub_site, tmp_path):
    state_dir = tmp_path / "devstack"
    stack = Stack(stack_artifacts, state_dir)
    groups: dict[str, int] = {}
    try:
        stack.wait_for("percept is up", 300)
        groups = _state(stack)
        env = {**os.environ, "PERCEPT_DEVSTACK_DIR": str(state_dir)}
        down = subprocess.run([sys.executable, "-m", "services.devstack", "down"], capture_output=True, text=True,
                              env=env, timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr
        assert stack.process.wait(timeout=60) == 0, stack.output
    finally:
        stack.interrupt()
    assert "restarting" not in stack.output  # a requested stop is not a crash
    stack.assert_nothing_left(groups, _tritonserver_pids(state_dir))
