"""The pool's handles on a zygote process and on the jailed children it forks."""
from __future__ import annotations

import collections
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from .. import PACKAGE_DIR
from ..config import SandboxConfig
from ..render import wire
from .runtime import RuntimeDir

LOG = logging.getLogger("percept_sandbox.pool")


@dataclass
class ExitInfo:
    status: int
    cpu_s: float
    peak_memory_bytes: int

    def describe(self) -> tuple[str, str]:
        if os.WIFSIGNALED(self.status):
            signum = os.WTERMSIG(self.status)
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            return name, f"killed by {name}"
        return "exit", f"exited with status {os.WEXITSTATUS(self.status)}"


@dataclass
class JailedChild:
    pid: int
    channel: socket.socket
    stdout_fd: int
    stderr_fd: int
    pidfd: int
    generation: int
    exited: threading.Event = field(default_factory=threading.Event)
    exit_info: ExitInfo | None = None

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def close(self) -> None:
        self.channel.close()
        for fd in (self.stdout_fd, self.stderr_fd, self.pidfd):
            try:
                os.close(fd)
            except OSError:
                pass


class ZygoteFailed(RuntimeError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ZygoteProcess:
    """One zygote process and the reader of its control channel."""

    def __init__(self, generation: int, config: SandboxConfig, runtime: "RuntimeDir", use_namespaces: bool) -> None:
        self.generation = generation
        self.use_namespaces = use_namespaces
        self.alive = False
        self.isolation: dict = {}
        self._spawned: collections.deque = collections.deque()
        self._spawn_cond = threading.Condition()
        self._children: dict[int, JailedChild] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        # -I: no PYTHON* variables, no user site, no working directory on sys.path; the
        # package's own parent directory is added so an uninstalled checkout works too.
        bootstrap = ("import sys; sys.path.insert(0, sys.argv[3]); "
                     "from percept_sandbox.pool.zygote import main; main(sys.argv)")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, str(theirs.fileno()), str(os.getpid()),
             os.path.dirname(PACKAGE_DIR)],
            pass_fds=[theirs.fileno()], env=runtime.zygote_env(config), cwd="/",
            stdin=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        wire.send_message(self.control, {"type": "configure", "config": config.to_message(),
                                         "paths": runtime.jail_paths(use_namespaces).to_message()})

    def wait_ready(self, timeout_s: float) -> dict:
        self.control.settimeout(timeout_s)
        try:
            message, _ = wire.recv_message(self.control)
        except (socket.timeout, OSError) as exc:
            self.stop()
            raise ZygoteFailed("setup", f"the zygote did not start: {exc}") from exc
        finally:
            self.control.settimeout(None)
        if message is None or message.get("type") != "ready":
            self.stop()
            kind = (message or {}).get("kind", "setup")
            error = (message or {}).get("error", "the zygote exited during set-up")
            raise ZygoteFailed(kind, error)
        self.isolation = message["isolation"]
        self.alive = True
        threading.Thread(target=self._read, name=f"zygote-reader-{self.generation}", daemon=True).start()
        return self.isolation

    def _read(self) -> None:
        try:
            while True:
                message, fds = wire.recv_message(self.control)
                if message is None:
                    break
                kind = message.get("type")
                if kind == "spawned" and len(fds) == 4:
                    channel = socket.socket(fileno=fds[0])
                    child = JailedChild(int(message["pid"]), channel, fds[1], fds[2], fds[3], self.generation)
                    with self._lock:
                        self._children[child.pid] = child
                    self._deliver(child)
                elif kind == "spawn_failed":
                    for fd in fds:
                        os.close(fd)
                    self._deliver(RuntimeError(message.get("error", "spawn failed")))
                elif kind == "exited":
                    with self._lock:
                        child = self._children.pop(int(message["pid"]), None)
                    if child is not None:
                        child.exit_info = ExitInfo(int(message["status"]), float(message["cpu_s"]),
                                                   int(message["peak_memory_bytes"]))
                        child.exited.set()
                else:
                    for fd in fds:
                        os.close(fd)
        except (OSError, wire.ProtocolError) as exc:
            if self.alive:
                LOG.warning("zygote %d control channel failed: %s", self.generation, exc)
        finally:
            self.alive = False
            self._deliver(RuntimeError("the zygote exited"))
            with self._lock:
                orphans = list(self._children.values())
                self._children.clear()
            for child in orphans:
                child.exited.set()  # killed with the zygote (parent-death signal)

    def _deliver(self, item) -> None:
        with self._spawn_cond:
            self._spawned.append(item)
            self._spawn_cond.notify_all()

    def spawn(self, timeout_s: float) -> JailedChild:
        with self._send_lock:
            wire.send_message(self.control, {"type": "spawn"})
        deadline = time.monotonic() + timeout_s
        with self._spawn_cond:
            while not self._spawned:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._spawn_cond.wait(remaining):
                    raise RuntimeError("the zygote did not answer a spawn request")
            item = self._spawned.popleft()
        if isinstance(item, Exception):
            raise item
        return item

    def stop(self) -> None:
        self.alive = False
        try:
            self.control.close()  # the zygote sees EOF, kills its children and exits
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
