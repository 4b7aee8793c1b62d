"""A real `percept-sandbox serve` process for tests, plus process-tree helpers.

The server runs as a separate process exactly as in production (same CLI, same
jail); tests talk to it over gRPC and scrape its /metrics over HTTP.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from percept_sandbox.client import SandboxClient
from tests.prometheus_text import sample_total, scrape

CORPUS = Path(__file__).resolve().parent / "corpus"
START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def corpus_program(name: str) -> str:
    return (CORPUS / name).read_text()


def process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, real uid, command line) for every process on the host."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/status") as handle:
                uid_line = next(line for line in handle if line.startswith("Uid:"))
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, StopIteration):
            continue
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        table[int(entry)] = (parent, int(uid_line.split()[1]), cmdline)
    return table


def descendants(pid: int) -> list[int]:
    table = process_table()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for child, (parent, _uid, _cmd) in table.items():
            if parent == current:
                found.append(child)
                frontier.append(child)
    return found


class SandboxServer:
    def __init__(self, *, workers: int = 2, queue_size: int = 4, env: dict | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.metrics_port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.workers = workers
        self.queue_size = queue_size
        self.env = dict(os.environ, **(env or {}))
        self.args = args
        self.log = tempfile.NamedTemporaryFile(prefix="sandbox-server-", suffix=".log", delete=False)
        self.process: subprocess.Popen | None = None

    def start(self) -> "SandboxServer":
        command = [sys.executable, "-m", "percept_sandbox.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--metrics-host", "127.0.0.1",
                   "--metrics-port", str(self.metrics_port), "--workers", str(self.workers),
                   "--queue-size", str(self.queue_size), *self.args]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox server exited with {self.process.returncode}:\n{self.log_text()}")
            if self.health() == health_pb2.HealthCheckResponse.SERVING:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"sandbox server did not become healthy:\n{self.log_text()}")

    def health(self, service: str = "") -> int | None:
        with grpc.insecure_channel(self.target) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=2)
            except grpc.RpcError:
                return None
        return reply.status

    def wait_healthy(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.health() != health_pb2.HealthCheckResponse.SERVING:
            if time.monotonic() > deadline:
                raise AssertionError("the sandbox server did not become healthy again")
            time.sleep(0.2)

    def client(self) -> SandboxClient:
        return SandboxClient(self.target)

    def metrics(self) -> str:
        return scrape(self.metrics_url)

    def metric_value(self, name: str, labels: str = "") -> float:
        value = sample_total(self.metrics(), name, labels)
        if value is None:
            raise KeyError(f"{name}{{{labels}}}")
        return value

    def zygote_pid(self) -> int | None:
        table = process_table()
        for pid, (parent, _uid, cmd) in table.items():
            if parent == self.process.pid and "percept_sandbox.pool.zygote" in cmd:
                return pid
        return None

    def tree(self) -> list[int]:
        return descendants(self.process.pid)

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            # The server prints its threads' stacks when a shutdown runs long: say where it hung.
            raise AssertionError(f"the sandbox server did not stop within {timeout_s} s; its log ends:\n"
                                 f"{self.log_text()[-8000:]}") from None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            os.unlink(self.log.name)


REPO = Path(__file__).resolve().parents[2]


def blocked_ancestor(path: Path) -> Path | None:
    """The first directory above `path` that other users may not enter (mode bits only)."""
    for parent in reversed(Path(path).parents):
        if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
            return parent
    return None


def runner_paths() -> list[Path]:
    """What a runner started by another identity must reach: the interpreter and the checkout."""
    paths = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), REPO})
    return [p for p in paths if not any(q != p and q in p.parents for q in paths)]


def world_enterable_view_steps(scratch: Path) -> list[str]:
    """Shell steps, for a private mount namespace, that re-expose the runner's paths below
    world-enterable tmpfs mounts wherever a directory above them is private (a checkout
    under a 0700 directory, an interpreter under root's home), at their usual paths."""
    steps = []
    by_blocker: dict[Path, list[Path]] = {}
    for path in runner_paths():
        blocker = blocked_ancestor(path)
        if blocker is not None:
            by_blocker.setdefault(blocker, []).append(path)
    for number, (blocker, paths) in enumerate(sorted(by_blocker.items())):
        views = []
        for index, path in enumerate(paths):
            view = scratch / f"view-{number}-{index}"
            view.mkdir()
            views.append((view, path))
            steps.append(f"mount --bind '{path}' '{view}'")
        steps.append(f"mount -t tmpfs -o mode=755 none '{blocker}'")
        for view, path in views:
            steps += [f"mkdir -p '{path}'", f"mount --move '{view}' '{path}'"]
    return steps


def in_world_enterable_view(command: list[str], scratch: Path, *, prefix: str = "",
                            env: dict | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess:
    """Run `command` (after the shell words `prefix`) in a private mount namespace with that view."""
    steps = ["set -e", *world_enterable_view_steps(scratch)]
    steps.append(f"exec {prefix} " + " ".join(f"'{part}'" for part in command))
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", "\n".join(steps)],
                          capture_output=True, text=True, timeout=timeout_s, cwd=scratch,
                          env=dict(os.environ, **(env or {})))
