"""A sandbox-runner started for one invocation, when no running one is configured.

`percept-eval run` renders with the sandbox at --sandbox, else at PERCEPT_EVAL_SANDBOX_URL,
else at the setting's default address. When neither is given and nothing answers at the
default address, it starts the production `percept-sandbox serve` (services.devstack's
sandbox component, as `make eval-demo` does) on free local ports for the run and stops it,
with everything it spawned, when the run ends: finished, failed, Ctrl-C or SIGTERM. An
address that was given is never replaced by a local server: one that does not answer is an
error, since a run meant for a shared pool should not quietly render somewhere else.
"""
from __future__ import annotations

import signal
import socket
from pathlib import Path

from services.common.net import find_free_ports
from services.devstack import BIND_HOST, sandbox_component, start_once, stop_component

START_TIMEOUT_S = 180.0   # the zygote imports matplotlib and warms its workers first
PROBE_TIMEOUT_S = 2.0
LOG_DIR = "logs"          # under the run directory: the local server's log, kept for a failed render


def answers(target: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether something accepts a TCP connection at host:port (a target gRPC names another
    way, e.g. dns:///..., is taken as reachable: the run's first render will tell)."""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or "/" in host:
        return True
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except OSError:
        return False


class SandboxStartError(RuntimeError):
    """The local sandbox-runner exited or was not healthy in time (its log says why)."""


def _exit_on_sigterm(signum, _frame):
    # SIGTERM unwinds like Ctrl-C: its default would end the process without the `finally`
    # (or `__exit__`) that stops the server.
    raise SystemExit(128 + signum)


class LocalSandbox:
    """`with LocalSandbox(log_dir, workers=2, queue_size=8) as target:` a healthy server at
    `target` (host:port) for the block; stopped, its whole process group, when it ends."""

    def __init__(self, log_dir: Path, *, workers: int, queue_size: int) -> None:
        self.log_dir = log_dir
        grpc_port, metrics_port = find_free_ports(2, BIND_HOST)
        self.target = f"{BIND_HOST}:{grpc_port}"
        self.component = sandbox_component(grpc_port, metrics_port, "--workers", str(workers),
                                           "--queue-size", str(queue_size))
        self._previous_sigterm = None

    @property
    def pid(self) -> int | None:
        process = self.component.process
        return None if process is None else process.pid

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.component.name}.log"

    def __enter__(self) -> str:
        self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            start_once(self.component, self.log_dir, START_TIMEOUT_S)
        except RuntimeError as exc:
            self._stop()
            raise SandboxStartError(str(exc)) from None
        except BaseException:   # an interrupted start leaves nothing running either
            self._stop()
            raise
        return self.target

    def __exit__(self, *exc) -> None:
        self._stop()

    def _stop(self) -> None:
        try:
            stop_component(self.component)
        finally:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
