"""The pool: the runner's trusted side, shared by the gRPC server and the CLI.

* keeps one zygote alive (and counts and replaces it when it dies);
* keeps `workers` children pre-forked and pre-jailed, so a request never waits
  for fork, namespaces, mounts or seccomp;
* runs at most `workers` renders at once and lets at most `queue_size` more
  wait; beyond that it refuses at once with a retry hint;
* talks to each untrusted child over its own socket and pipes, against byte
  budgets and a hard wall-clock deadline that kills the child's whole PID
  namespace.
"""
from __future__ import annotations

import collections
import json
import logging
import math
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from . import wire
from .config import SandboxConfig
from .metrics import Metrics
from .results import ImageFormat, RenderedFigure, RenderOptions, RenderResult, Status

LOG = logging.getLogger("percept_sandbox.pool")

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
KILL_GRACE_S = 1.0  # after the child's own timer, before the pool kills it
EXIT_INFO_WAIT_S = 2.0
CHILD_READY_TIMEOUT_S = 20.0
ZYGOTE_START_TIMEOUT_S = 300.0
MAX_RESULT_HEADER_BYTES = 64 * 1024
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS}


class InvalidRequest(ValueError):
    """The request itself is wrong (too large, bad options): the client's fault."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QueueFull(RuntimeError):
    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"all workers are busy and the queue is full; retry in {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


class SandboxUnavailable(RuntimeError):
    """No jailed worker could be had (the zygote is restarting or failing)."""

    retry_after_ms = 1000


class IsolationUnavailable(RuntimeError):
    """Namespaces or seccomp are missing and the insecure flag is not set."""


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
class _Child:
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


class _ZygoteFailed(RuntimeError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Zygote:
    """One zygote process and the reader of its control channel."""

    def __init__(self, generation: int, config: SandboxConfig, runtime: "_Runtime", use_namespaces: bool) -> None:
        self.generation = generation
        self.use_namespaces = use_namespaces
        self.alive = False
        self.isolation: dict = {}
        self._spawned: collections.deque = collections.deque()
        self._spawn_cond = threading.Condition()
        self._children: dict[int, _Child] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        bootstrap = ("import sys; sys.path.insert(0, sys.argv[3]); "
                     "from percept_sandbox.zygote import main; main(sys.argv)")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, str(theirs.fileno()), str(os.getpid()),
             os.path.dirname(PACKAGE_DIR)],
            pass_fds=[theirs.fileno()], env=runtime.zygote_env(config), cwd="/",
            stdin=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        wire.send_message(self.control, {"type": "configure",
                                         "config": runtime.zygote_config(config, use_namespaces)})

    def wait_ready(self, timeout_s: float) -> dict:
        self.control.settimeout(timeout_s)
        try:
            message, _ = wire.recv_message(self.control)
        except (socket.timeout, OSError) as exc:
            self.stop()
            raise _ZygoteFailed("setup", f"the zygote did not start: {exc}") from exc
        finally:
            self.control.settimeout(None)
        if message is None or message.get("type") != "ready":
            self.stop()
            kind = (message or {}).get("kind", "setup")
            error = (message or {}).get("error", "the zygote exited during set-up")
            raise _ZygoteFailed(kind, error)
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
                    child = _Child(int(message["pid"]), channel, fds[1], fds[2], fds[3], self.generation)
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

    def spawn(self, timeout_s: float) -> _Child:
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


class _Runtime:
    """The runner's private directory: matplotlib cache, jail mount point, scratch."""

    def __init__(self, config: SandboxConfig) -> None:
        base = config.runtime_dir or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        _remove_stale_runtime_dirs(base)
        self.path = tempfile.mkdtemp(prefix=RUNTIME_PREFIX, dir=base)
        os.chmod(self.path, 0o711)  # traversable by the jail identity in insecure mode
        with open(os.path.join(self.path, OWNER_FILE), "w") as handle:
            handle.write(str(os.getpid()))
        self.mplconfigdir = self._prepare_mplconfigdir(config.mplconfigdir or _default_mpl_cache())
        self.mountpoint = os.path.join(self.path, "jail-root")
        os.makedirs(self.mountpoint)
        self.scratch = os.path.join(self.path, "scratch")
        os.makedirs(self.scratch)
        os.chmod(self.scratch, 0o711)

    def _prepare_mplconfigdir(self, prepared: str) -> str:
        """A writable matplotlib config dir with a warm font cache (rebuilding it costs seconds).

        A writable prepared directory is used as it is (and warmed for the next start);
        a read-only one (baked into the image) is copied; without one, a fresh one.
        """
        try:
            os.makedirs(prepared, exist_ok=True)
        except OSError:
            pass
        if os.path.isdir(prepared) and os.access(prepared, os.W_OK | os.X_OK):
            return prepared
        private = os.path.join(self.path, "mplconfig")
        if os.path.isdir(prepared):
            shutil.copytree(prepared, private)
        else:
            os.makedirs(private)
        return private

    def zygote_env(self, config: SandboxConfig) -> dict:
        # Nothing of the runner's environment: secrets never reach the zygote.
        return {"MPLBACKEND": "Agg", "MPLCONFIGDIR": self.mplconfigdir, "LANG": "C.UTF-8",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "PERCEPT_SANDBOX_LOG_LEVEL": config.log_level}

    def zygote_config(self, config: SandboxConfig, use_namespaces: bool) -> dict:
        return {
            "use_namespaces": use_namespaces,
            "allow_insecure": config.insecure_no_isolation,
            "package_dir": PACKAGE_DIR,
            "mplconfigdir": self.mplconfigdir,
            "mountpoint": self.mountpoint,
            "scratch_root": self.scratch,
            "jail_uid": config.jail_uid,
            "jail_gid": config.jail_gid,
            "tmpfs_bytes": config.tmpfs_bytes,
            "memory_bytes": config.memory_bytes,
            "file_bytes": config.file_bytes,
            "processes": config.processes,
            "open_files": config.open_files,
            "max_cpu_s": int(math.ceil(config.max_timeout_s)) + 1,
            "max_code_bytes": config.max_code_bytes,
            "max_figures": config.max_figures,
            "max_figure_pixels": config.max_figure_pixels,
            "max_image_bytes": config.max_image_bytes,
            "max_trace_bytes": config.max_trace_bytes,
            "child_env": {"MPLBACKEND": "Agg", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
                          "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        }

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


RUNTIME_PREFIX = "percept-sandbox-"
OWNER_FILE = "owner.pid"


def _remove_stale_runtime_dirs(base: str) -> None:
    """Runtime directories left by runners that were killed before they could clean up."""
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if not name.startswith(RUNTIME_PREFIX) or not os.path.isdir(path) or os.stat(path).st_uid != os.getuid():
            continue
        try:
            with open(os.path.join(path, OWNER_FILE)) as handle:
                owner = int(handle.read())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass


def _default_mpl_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "percept-sandbox", "mplconfig")


class _Tail:
    """The last `limit` bytes of a stream, and how many were written in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffer = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self.buffer += data
        if len(self.buffer) > 2 * self.limit:
            del self.buffer[:-self.limit]

    def text(self) -> str:
        return bytes(self.buffer[-self.limit:]).decode("utf-8", errors="replace")


class SandboxPool:
    def __init__(self, config: SandboxConfig, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or Metrics()
        self._runtime: _Runtime | None = None
        self._zygote: _Zygote | None = None
        self._generation = 0
        self._use_namespaces = True
        self._ready: collections.deque[_Child] = collections.deque()
        self._cond = threading.Condition()
        self._slots = threading.Semaphore(config.workers)
        self._admitted = 0
        self._admit_lock = threading.Lock()
        self._closing = False
        self._fatal: Exception | None = None
        self._started = threading.Event()
        self._maintainer: threading.Thread | None = None
        self._recent_s: collections.deque[float] = collections.deque(maxlen=64)
        self.isolation: dict = {}

    # -- life cycle -----------------------------------------------------------
    def start(self, timeout_s: float = ZYGOTE_START_TIMEOUT_S) -> "SandboxPool":
        self._runtime = _Runtime(self.config)
        self._maintainer = threading.Thread(target=self._maintain, name="sandbox-maintainer", daemon=True)
        self._maintainer.start()
        if not self._started.wait(timeout_s) and self._fatal is None:
            self.close()
            raise SandboxUnavailable("the sandbox did not become ready in time")
        if self._fatal is not None:
            fatal = self._fatal
            self.close()
            raise fatal
        return self

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._maintainer is not None and self._maintainer is not threading.current_thread():
            self._maintainer.join(timeout=10)
        self._stop_zygote()
        if self._runtime is not None:
            self._runtime.remove()
            self._runtime = None

    def __enter__(self) -> "SandboxPool":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def healthy(self) -> bool:
        zygote = self._zygote
        return self._started.is_set() and not self._closing and zygote is not None and zygote.alive

    @property
    def zygote_pid(self) -> int | None:
        zygote = self._zygote
        return zygote.process.pid if zygote is not None and zygote.alive else None

    def _stop_zygote(self) -> None:
        with self._cond:
            stale = list(self._ready)
            self._ready.clear()
            self.metrics.ready_children.set(0)
        for child in stale:
            child.kill()
            child.close()
        if self._zygote is not None:
            self._zygote.stop()
            self._zygote = None

    # -- the maintainer thread: zygote supervision and pre-forking -----------
    def _maintain(self) -> None:
        backoff = 0.5
        while not self._closing:
            zygote = self._zygote
            if zygote is None or not zygote.alive:
                if zygote is not None:
                    LOG.warning("the zygote (generation %d) died; starting a new one", zygote.generation)
                    self.metrics.zygote_restarts.inc()
                    self._stop_zygote()
                if not self._start_zygote():
                    if self._fatal is not None:
                        self._started.set()
                        return
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                continue
            with self._cond:
                need = len(self._ready) < self.config.workers
                if not need:
                    self._cond.wait(timeout=1.0)
                    continue
            try:
                child = zygote.spawn(timeout_s=CHILD_READY_TIMEOUT_S)
                self._await_child_ready(child)
            except Exception as exc:  # a failed spawn is retried; a dead zygote is replaced
                if zygote.alive:
                    LOG.warning("pre-forking a child failed: %s", exc)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            with self._cond:
                self._ready.append(child)
                self.metrics.ready_children.set(len(self._ready))
                self._cond.notify_all()
            self._started.set()

    def _start_zygote(self) -> bool:
        self._generation += 1
        try:
            zygote = _Zygote(self._generation, self.config, self._runtime, self._use_namespaces)
            isolation = zygote.wait_ready(ZYGOTE_START_TIMEOUT_S)
        except _ZygoteFailed as exc:
            if exc.kind == "isolation":
                if self.config.insecure_no_isolation and self._use_namespaces:
                    LOG.critical("ISOLATION UNAVAILABLE (%s); running WITHOUT namespaces because "
                                 "PERCEPT_SANDBOX_INSECURE_NO_ISOLATION is set", exc)
                    self._use_namespaces = False
                    return False
                self._fatal = IsolationUnavailable(
                    f"{exc}. The runner refuses to run untrusted code without namespaces and seccomp; "
                    "set PERCEPT_SANDBOX_INSECURE_NO_ISOLATION=1 (or --insecure-no-isolation) only for "
                    "trusted code.")
                return False
            LOG.error("the zygote failed to start: %s", exc)
            return False
        except OSError as exc:
            LOG.error("the zygote failed to start: %s", exc)
            return False
        self._zygote = zygote
        self.isolation = isolation
        self.metrics.isolation.labels("namespaces").set(1 if isolation.get("namespaces") else 0)
        self.metrics.isolation.labels("seccomp").set(1 if isolation.get("seccomp") else 0)
        for warning in isolation.get("warnings", []):
            LOG.critical("INSECURE: %s", warning)
        LOG.info("zygote %d ready (pid %d, isolation %s)", zygote.generation, zygote.process.pid,
                 {k: v for k, v in isolation.items() if k != "warnings"})
        return True

    def _await_child_ready(self, child: _Child) -> None:
        child.channel.settimeout(CHILD_READY_TIMEOUT_S)
        try:
            frame = wire.recv_frame(child.channel, 4096)
        except (OSError, wire.ProtocolError) as exc:
            child.kill()
            child.close()
            raise RuntimeError(f"child {child.pid} failed before it was ready: {exc}") from exc
        finally:
            child.channel.settimeout(None)
        reply = json.loads(frame) if frame else {}
        if not reply.get("ready"):
            child.kill()
            try:
                os.set_blocking(child.stderr_fd, False)
                stderr = os.read(child.stderr_fd, 4096).decode(errors="replace")
            except OSError:
                stderr = ""
            child.close()
            raise RuntimeError(f"child {child.pid} could not enter its jail: "
                               f"{reply.get('error', 'no reply')} {stderr}".strip())

    # -- renders --------------------------------------------------------------
    def validate(self, code: str, options: RenderOptions) -> float:
        """Check a request; returns its timeout. Raises InvalidRequest."""
        cfg = self.config
        if len(code.encode("utf-8", errors="surrogatepass")) > cfg.max_code_bytes:
            raise InvalidRequest("payload_too_large", f"the program is larger than {cfg.max_code_bytes} bytes")
        if not 1 <= options.dpi <= cfg.max_dpi:
            raise InvalidRequest("invalid_request", f"dpi must be between 1 and {cfg.max_dpi}")
        if not isinstance(options.format, ImageFormat):
            raise InvalidRequest("invalid_request", "format must be png or svg")
        timeout = cfg.default_timeout_s if options.timeout_s is None else options.timeout_s
        if not (timeout > 0 and math.isfinite(timeout)) or timeout > cfg.max_timeout_s:
            raise InvalidRequest("invalid_request", f"timeout must be in (0, {cfg.max_timeout_s:g}] seconds")
        return timeout

    def _retry_after_ms(self) -> int:
        typical = sorted(self._recent_s)[len(self._recent_s) // 2] if self._recent_s else 0.5
        waves = 1 + self.config.queue_size // max(1, self.config.workers)
        return int(max(100, min(30_000, typical * waves * 1000)))

    def render(self, code: str, options: RenderOptions = RenderOptions()) -> RenderResult:
        try:
            timeout_s = self.validate(code, options)
        except InvalidRequest:
            self.metrics.rejected.labels("invalid_request").inc()
            raise
        with self._admit_lock:
            if self._admitted >= self.config.workers + self.config.queue_size:
                self.metrics.rejected.labels("queue_full").inc()
                raise QueueFull(self._retry_after_ms())
            self._admitted += 1
        accepted = time.perf_counter()
        try:
            self.metrics.queue_depth.inc()
            try:
                acquired = self._slots.acquire(timeout=self.config.max_timeout_s + 60)
            finally:
                self.metrics.queue_depth.dec()
            if not acquired:
                raise SandboxUnavailable("no worker became free")
            try:
                self.metrics.in_flight.inc()
                result = self._render_on_a_child(code, options, timeout_s)
            finally:
                self.metrics.in_flight.dec()
                self._slots.release()
        except SandboxUnavailable:
            self.metrics.rejected.labels("unavailable").inc()
            raise
        finally:
            with self._admit_lock:
                self._admitted -= 1
        elapsed = time.perf_counter() - accepted
        self._recent_s.append(elapsed)
        self.metrics.renders.labels(result.status.value).inc()
        self.metrics.latency.observe(elapsed)
        return result

    def _take_child(self, deadline: float) -> _Child:
        with self._cond:
            while not self._ready:
                if self._closing:
                    raise SandboxUnavailable("the sandbox is shutting down")
                if self._fatal is not None:
                    raise SandboxUnavailable(str(self._fatal))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxUnavailable("no jailed worker became ready in time")
                self._cond.wait(min(remaining, 1.0))
            child = self._ready.popleft()
            self.metrics.ready_children.set(len(self._ready))
            self._cond.notify_all()  # the maintainer forks a replacement
            return child

    def _render_on_a_child(self, code: str, options: RenderOptions, timeout_s: float) -> RenderResult:
        deadline = time.monotonic() + CHILD_READY_TIMEOUT_S * 2
        for _attempt in range(3):
            child = self._take_child(deadline)
            try:
                result = self._run(child, code, options, timeout_s)
            finally:
                child.close()
            if result is not None:
                return result
        raise SandboxUnavailable("jailed workers kept dying before running the program")

    def _run(self, child: _Child, code: str, options: RenderOptions, timeout_s: float) -> RenderResult | None:
        cfg = self.config
        request = {"dpi": options.dpi, "format": options.format.value, "timeout_s": timeout_s,
                   "trace": options.trace}
        started = time.perf_counter()
        try:
            wire.send_frames(child.channel, [json.dumps(request).encode(), code.encode("utf-8", "surrogatepass")])
        except OSError:
            return None  # dead before it saw the program (its zygote died): another child runs it
        stdout, stderr = _Tail(cfg.output_tail_bytes), _Tail(cfg.output_tail_bytes)
        max_result = MAX_RESULT_HEADER_BYTES + cfg.max_trace_bytes + cfg.max_image_bytes + 4 * (cfg.max_figures + 1)
        received = bytearray()
        killed_for: Status | None = None
        kill_detail = ""
        hard_deadline = time.monotonic() + timeout_s + KILL_GRACE_S
        selector = selectors.DefaultSelector()
        child.channel.setblocking(False)
        for fd in (child.stdout_fd, child.stderr_fd):
            os.set_blocking(fd, False)
        selector.register(child.channel, selectors.EVENT_READ, "result")
        selector.register(child.stdout_fd, selectors.EVENT_READ, stdout)
        selector.register(child.stderr_fd, selectors.EVENT_READ, stderr)
        channel_closed_at: float | None = None
        try:
            while selector.get_map():
                now = time.monotonic()
                if channel_closed_at is not None and now - channel_closed_at > 0.5:
                    break  # output pipes held open by a leftover process (insecure mode only)
                if now >= hard_deadline:
                    killed_for, kill_detail = Status.TIMEOUT, f"the program ran past {timeout_s:g} s and was killed"
                    child.kill()
                    break
                for key, _ in selector.select(timeout=min(hard_deadline - now, 0.5)):
                    if key.data == "result":
                        try:
                            data = child.channel.recv(1 << 20)
                        except BlockingIOError:
                            continue
                        except OSError:
                            data = b""
                        if not data:
                            selector.unregister(child.channel)
                            channel_closed_at = time.monotonic()
                        else:
                            received += data
                            if len(received) > max_result:
                                killed_for, kill_detail = Status.OUTPUT_LIMIT, "the result exceeds the size limits"
                    else:
                        try:
                            data = os.read(key.fd, 1 << 16)
                        except BlockingIOError:
                            continue
                        if not data:
                            selector.unregister(key.fd)
                        else:
                            key.data.add(data)
                            if stdout.total + stderr.total > cfg.max_output_bytes:
                                killed_for = Status.OUTPUT_LIMIT
                                kill_detail = f"the program wrote more than {cfg.max_output_bytes} bytes of output"
                if killed_for is not None:
                    child.kill()
                    break
        finally:
            selector.close()
        wall_s = time.perf_counter() - started
        result = RenderResult(status=Status.EXEC_ERROR, stdout_tail=stdout.text(), stderr_tail=stderr.text(),
                              stdout_bytes=stdout.total, stderr_bytes=stderr.total, wall_s=wall_s)
        if killed_for is not None:
            result.status, result.detail = killed_for, kill_detail
            result.error_type = "TimeoutError" if killed_for is Status.TIMEOUT else "OutputLimitExceeded"
            result.error_message = kill_detail
            self._fill_usage_from_exit(child, result)
            return result
        if received:
            try:
                self._parse_result(bytes(received), result)
                return result
            except (wire.ProtocolError, ValueError, KeyError, TypeError) as exc:
                result.status = Status.EXEC_ERROR
                result.error_type = "ProtocolError"
                result.error_message = f"the program corrupted the runner's result channel: {exc}"
                result.detail = result.error_message
                child.kill()
                self._fill_usage_from_exit(child, result)
                return result
        # No result: the child died (crash, CPU limit, program exit), or its zygote died.
        if not child.exited.wait(EXIT_INFO_WAIT_S) or child.exit_info is None:
            child.kill()
            raise SandboxUnavailable("the jailed worker was lost (its zygote died); retry the request")
        self._classify_exit(child.exit_info, result, timeout_s)
        return result

    def _fill_usage_from_exit(self, child: _Child, result: RenderResult) -> None:
        if child.exited.wait(EXIT_INFO_WAIT_S) and child.exit_info is not None:
            result.cpu_s = child.exit_info.cpu_s
            result.peak_memory_bytes = child.exit_info.peak_memory_bytes

    def _classify_exit(self, info: ExitInfo, result: RenderResult, timeout_s: float) -> None:
        result.cpu_s, result.peak_memory_bytes = info.cpu_s, info.peak_memory_bytes
        kind, description = info.describe()
        cpu_limit = min(int(math.ceil(self.config.max_timeout_s)) + 1, int(timeout_s) + 1)
        if kind in ("SIGXCPU",) or (kind == "SIGKILL" and info.cpu_s >= cpu_limit - 0.05):
            result.status, result.error_type = Status.TIMEOUT, "TimeoutError"
            result.error_message = f"the program used more than {cpu_limit} s of CPU time"
        elif kind == "exit":
            result.status, result.error_type = Status.EXEC_ERROR, "SystemExit"
            result.error_message = f"the program {description} before its figures were rendered"
        else:
            signum = os.WTERMSIG(info.status)
            result.status, result.error_type = Status.EXEC_ERROR, kind
            reason = "crashed" if signum in CRASH_SIGNALS else "was killed"
            result.error_message = f"the program {reason} ({description})"
        result.detail = result.error_message

    def _parse_result(self, data: bytes, result: RenderResult) -> None:
        cfg = self.config
        frames = wire.split_frames(data, cfg.max_figures + 1)
        if not frames:
            raise wire.ProtocolError("empty result")
        if len(frames[0]) > MAX_RESULT_HEADER_BYTES + cfg.max_trace_bytes:
            raise wire.ProtocolError("result header too large")
        header = json.loads(frames[0])
        if not isinstance(header, dict):
            raise wire.ProtocolError("result header is not an object")
        status = Status(header["status"])
        figures_meta = header.get("figures") or []
        images = frames[1:]
        if len(figures_meta) != len(images):
            raise wire.ProtocolError("figure count does not match")
        trace = header.get("trace") or ""
        if not isinstance(trace, str) or len(trace.encode()) > cfg.max_trace_bytes:
            raise wire.ProtocolError("trace too large")
        if sum(len(i) for i in images) > cfg.max_image_bytes:
            raise wire.ProtocolError("images too large")
        figures = []
        for index, (meta, image) in enumerate(zip(figures_meta, images)):
            figures.append(RenderedFigure(index, ImageFormat(meta["format"]), image,
                                          int(meta["width_px"]), int(meta["height_px"])))
        result.status = status
        result.figures = figures if status is Status.OK else []
        result.trace_json = trace if status is Status.OK else ""
        result.error_type = str(header.get("error_type", ""))[:256]
        result.error_message = str(header.get("error_message", ""))[:4096]
        result.detail = str(header.get("detail", ""))[:1024]
        result.cpu_s = max(0.0, float(header.get("cpu_s", 0.0)))
        result.peak_memory_bytes = max(0, int(header.get("peak_memory_bytes", 0)))
        result.phases = {k: v for k, v in header.items() if k.startswith("t_")}
