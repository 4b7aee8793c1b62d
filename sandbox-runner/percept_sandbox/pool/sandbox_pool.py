"""The pool: the runner's trusted side, shared by the gRPC server and the CLI.

* keeps one zygote alive (and counts and replaces it when it dies);
* keeps `workers` children pre-forked and pre-jailed, so a request never waits
  for fork, namespaces, mounts or seccomp;
* runs at most `workers` renders at once and lets at most `queue_size` more
  wait; beyond that it refuses at once with a retry hint;
* hands each render to one child (exchange.py) and discards the child after.
"""
from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
import os
import threading
import time

from ..config import SandboxConfig
from ..errors import InvalidRequest, IsolationUnavailable, QueueFull, SandboxUnavailable
from ..isolation import active_layers
from ..render import wire
from ..render.results import DEFAULT_OPTIONS, ImageFormat, RenderOptions, RenderResult
from .exchange import run_render
from .metrics import Metrics
from .runtime import RuntimeDir
from .zygote_handle import JailedChild, ZygoteFailed, ZygoteProcess

LOG = logging.getLogger("percept_sandbox.pool")

CHILD_READY_TIMEOUT_S = 20.0
MAX_SPAWN_FAILURES = 3  # then the zygote is presumed stuck and replaced
ZYGOTE_START_TIMEOUT_S = 300.0

__all__ = ["SandboxPool"]


class SandboxPool:
    def __init__(self, config: SandboxConfig, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or Metrics()
        self._runtime: RuntimeDir | None = None
        self._zygote: ZygoteProcess | None = None
        self._generation = 0
        # The pod mode never creates namespaces: the pod is the outer wall (config.isolation).
        self._use_namespaces = config.uses_namespaces
        self._ready: collections.deque[JailedChild] = collections.deque()
        self._cond = threading.Condition()
        self._slots = threading.Semaphore(config.workers)
        self._admitted = 0
        self._admit_lock = threading.Lock()
        self._closing = False
        self._fatal: Exception | None = None
        self._started = threading.Event()
        self._maintainer: threading.Thread | None = None
        self._recent_s: collections.deque[float] = collections.deque(maxlen=64)
        self._prefork_pauses = 0
        self.isolation: dict = {}
        self.layers: dict[str, bool] = {}  # isolation.active_layers: what the log and /metrics report

    # -- life cycle -----------------------------------------------------------
    def start(self, timeout_s: float = ZYGOTE_START_TIMEOUT_S) -> "SandboxPool":
        self._runtime = RuntimeDir(self.config)
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
        backoff, failures = 0.5, 0
        while not self._closing:
            zygote = self._zygote
            if zygote is None or not zygote.alive:
                failures = 0
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
                need = len(self._ready) < self.config.workers and not self._prefork_pauses
                if not need:
                    self._cond.wait(timeout=1.0)
                    continue
            try:
                child = zygote.spawn(timeout_s=CHILD_READY_TIMEOUT_S)
                self._await_child_ready(child)
            except Exception as exc:  # a failed spawn is retried; a dead zygote is replaced
                if zygote.alive:
                    failures += 1
                    LOG.warning("pre-forking a child failed (%d in a row): %s", failures, exc)
                    if failures >= MAX_SPAWN_FAILURES:
                        LOG.error("the zygote keeps failing to fork; replacing it")
                        zygote.stop()  # seen as dead on the next pass, counted and restarted
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                continue
            backoff, failures = 0.5, 0
            with self._cond:
                self._ready.append(child)
                self.metrics.ready_children.set(len(self._ready))
                self._cond.notify_all()
            self._started.set()

    def _start_zygote(self) -> bool:
        self._generation += 1
        try:
            zygote = ZygoteProcess(self._generation, self.config, self._runtime, self._use_namespaces)
            isolation = zygote.wait_ready(ZYGOTE_START_TIMEOUT_S)
        except ZygoteFailed as exc:
            if exc.kind == "unreachable":
                self._fatal = IsolationUnavailable(str(exc))
                return False
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
        self.layers = active_layers(isolation)
        self.metrics.report_isolation(self.config.isolation, self.layers)
        for warning in isolation.get("warnings", []):
            LOG.critical("INSECURE: %s", warning)
        LOG.info("zygote %d ready (pid %d, isolation %s)", zygote.generation, zygote.process.pid,
                 {k: v for k, v in isolation.items() if k != "warnings"})
        return True

    def _await_child_ready(self, child: JailedChild) -> None:
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

    # -- measurement: the pool's background work held back ----------------------
    @contextlib.contextmanager
    def prefork_paused(self):
        """No replacement child is forked inside the block (children already waiting still
        serve renders); pre-forking resumes on leaving. For measurements that must not share
        the machine with the pool's background work, such as the benchmark's floor."""
        with self._cond:
            self._prefork_pauses += 1
        try:
            yield self
        finally:
            with self._cond:
                self._prefork_pauses -= 1
                self._cond.notify_all()

    def wait_until_refilled(self, timeout_s: float = CHILD_READY_TIMEOUT_S) -> bool:
        """Wait until `workers` children are waiting (the pool is idle again); False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._ready) < self.config.workers:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return False
                self._cond.wait(min(remaining, 0.5))
        return True

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

    def render(self, code: str, options: RenderOptions = DEFAULT_OPTIONS) -> RenderResult:
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

    def _take_child(self, deadline: float) -> JailedChild:
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
                result = run_render(child, code, options, timeout_s, self.config)
            finally:
                child.close()
            if result is not None:
                return result
        raise SandboxUnavailable("jailed workers kept dying before running the program")
