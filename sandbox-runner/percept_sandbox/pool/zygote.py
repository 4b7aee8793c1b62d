"""The zygote: a warm, single-threaded process that forks one jailed child per render.

Started by the pool with a clean environment (no parent variable ever reaches
it, so none can reach a child, not even in the memory a child inherits). It

1. checks that user namespaces can be created at all (in milliseconds);
2. imports the libraries and draws warm-up figures, with the host's view;
3. compiles the seccomp filter;
4. enters its own user and mount namespaces, as an unprivileged identity, and
   pivots into the jail's read-only filesystem view (see filesystem.py);
5. answers "spawn" requests: clone() straight into new user, PID, network,
   mount, IPC and UTS namespaces (the child finishes its own jail, see
   child.py), hands the pool the child's render channel, output pipes and
   pidfd, and reports every child's exit status and resource usage.

It never sees a program: programs go from the pool to a child directly.
"""
from __future__ import annotations

import fcntl
import logging
import os
import select
import shutil
import signal
import socket
import sys
import traceback

from .. import settings
from ..config import SandboxConfig
from ..jail import filesystem, linux
from ..jail.confine import ChildPlan
from ..jail.userns import (
    IsolationError,
    JailUnreachable,
    become_namespace_root,
    enter_user_namespace,
    write_own_id_maps,
)
from ..render import sequence, wire
from ..render.results import RenderOptions
from ..render.warmup import RENDER_ENV
from . import child as child_module
from .runtime import JailPaths

LOG = logging.getLogger("percept_sandbox.zygote")

CHILD_NAMESPACES = (linux.CLONE_NEWUSER | linux.CLONE_NEWPID | linux.CLONE_NEWNS | linux.CLONE_NEWNET
                    | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS)
PROBE_OK, PROBE_NO_ID_MAPS, PROBE_NO_SECCOMP, PROBE_FORK_ALLOWED = 0, 1, 2, 3
PROBE_FAILURES = {
    PROBE_NO_ID_MAPS: "a child could not set up its user namespace",
    PROBE_NO_SECCOMP: "a child could not load the seccomp filter",
    PROBE_FORK_ALLOWED: "the seccomp filter did not refuse a new process",
}
WARMUP_PROGRAM = """
import numpy as np
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([0, 1, 2], [0, 1, 4], label="y")
ax.set_title("warm")
ax.legend()
plt.savefig("warm.png")
"""


def warm_up() -> None:
    from ..render import warmup

    warmup.import_libraries()
    warmup.draw_warmup_figure()
    sequence.render_in_process(WARMUP_PROGRAM)


def find_hot_pages(config: SandboxConfig) -> tuple[tuple[int, int], ...]:
    """The pages every render writes (see prefault.py); none if this system cannot tell."""
    from ..jail import prefault

    def render_as_a_child(code: str) -> None:  # in a probe child, discarded after
        sequence.render(code, RenderOptions(), config.render_limits())

    try:
        ranges = prefault.probe_hot_ranges(render_as_a_child)
    except (OSError, RuntimeError, ValueError) as exc:
        LOG.warning("no pre-faulting: %s", exc)
        return ()
    LOG.info("pre-faulting %d pages in %d ranges per child", sum(n for _, n in ranges) // prefault.PAGE,
             len(ranges))
    return ranges


class Zygote:
    def __init__(self, control: socket.socket, config: SandboxConfig, paths: JailPaths,
                 hot_ranges: tuple = ()) -> None:
        self.control = control
        self.config = config
        self.paths = paths
        self.hot_ranges = hot_ranges
        self.tmp_shadows: tuple = ()
        self.proc_fd: int | None = None
        self.namespaces = False
        self.seccomp_program: bytes | None = None
        self.children: set[int] = set()
        self.plan: ChildPlan | None = None

    # -- set-up -------------------------------------------------------------
    def set_up(self) -> dict:
        cfg, paths = self.config, self.paths
        warnings = []
        try:
            from ..jail import seccomp_policy

            self.seccomp_program = seccomp_policy.compile_program()
        except Exception as exc:  # libseccomp missing or unusable
            if not cfg.insecure_no_isolation:
                raise IsolationError(f"seccomp is unavailable: {exc}") from exc
            warnings.append(f"seccomp is unavailable: {exc}")
        if paths.use_namespaces:
            layout = filesystem.default_layout(paths.package_dir, paths.mplconfigdir)
            plan = filesystem.plan_jail(layout)
            self.tmp_shadows = tuple(plan.tmp_shadows)
            try:
                enter_user_namespace(cfg.jail_uid, cfg.jail_gid)
                self.proc_fd = filesystem.enter_jail_root(plan, paths.mountpoint, become_namespace_root)
                self._probe_child_namespaces()
            except OSError as exc:
                raise IsolationError(f"user namespaces are unavailable: {exc}") from exc
            self.namespaces = True
        else:
            self._check_reachable_without_namespaces()
            if cfg.isolation != "pod":  # in the pod mode the pod's own wall stands in for them, by design
                warnings.append("namespaces are disabled: programs see the host filesystem and network")
        env = dict(RENDER_ENV)
        if self.namespaces:
            env["MPLCONFIGDIR"] = filesystem.JAIL_MPLCONFIGDIR
        self.plan = ChildPlan(config=cfg, isolated=self.namespaces, seccomp_program=self.seccomp_program, env=env,
                              scratch_root=paths.scratch_root, prefault_ranges=self.hot_ranges,
                              tmp_shadows=self.tmp_shadows)
        # The layers every child gets (rlimits always; seccomp includes refusing new processes).
        return {"namespaces": self.namespaces, "seccomp": self.seccomp_program is not None, "rlimits": True,
                "warnings": warnings}

    def _check_reachable_without_namespaces(self) -> None:
        """Children run as the jail identity on the host's filesystem: it must reach the
        interpreter, the package and the caches, or renders fail at their first lazy import."""
        cfg, paths = self.config, self.paths
        if os.geteuid() != 0:
            return  # children keep the runner's own identity, which reached them already
        readable = [p for p in filesystem.python_paths(paths.package_dir) + [paths.mplconfigdir] if os.path.exists(p)]
        blocked = filesystem.first_unreachable(readable, [paths.scratch_root], cfg.jail_uid, cfg.jail_gid)
        if blocked:
            raise JailUnreachable(
                f"without namespaces, renders run as uid {cfg.jail_uid}, which cannot reach {blocked} "
                "(the interpreter, the package or the caches lie below it); make that directory enterable "
                "and readable by that uid, set PERCEPT_SANDBOX_JAIL_UID to an identity that can reach it, "
                "or run with namespaces")

    def _probe_child_namespaces(self) -> None:
        """Create (and discard) one child the way renders will, before promising anything:
        its id maps, and that the seccomp filter loads and refuses a new process."""
        pid = linux.clone(CHILD_NAMESPACES)
        if pid == 0:
            code = PROBE_OK
            try:
                write_own_id_maps(self.proc_fd)
            except BaseException:
                os._exit(PROBE_NO_ID_MAPS)
            try:
                if self.seccomp_program:
                    linux.set_no_new_privs()
                    linux.load_seccomp_bpf(self.seccomp_program)
                    code = PROBE_FORK_ALLOWED
                    if os.fork() == 0:
                        os._exit(0)
            except PermissionError:
                code = PROBE_OK  # refused, as every render's will be
            except BaseException:
                code = PROBE_NO_SECCOMP
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) in PROBE_FAILURES:
            raise IsolationError(PROBE_FAILURES[os.WEXITSTATUS(status)])
        if status != 0:
            raise IsolationError(f"a probe child failed (status {status})")

    # -- serving ------------------------------------------------------------
    def spawn(self) -> None:
        pool_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = linux.clone(CHILD_NAMESPACES) if self.namespaces else os.fork()
        except OSError as exc:
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            pool_end.close()
            child_end.close()
            wire.send_message(self.control, {"type": "spawn_failed", "error": str(exc)})
            return
        if pid == 0:
            pool_end.close()
            os.close(out_r)
            os.close(err_r)
            child_module.main(self.plan, child_end.detach(), out_w, err_w, self.proc_fd)
        self.children.add(pid)
        child_end.close()
        os.close(out_w)
        os.close(err_w)
        pidfd = os.pidfd_open(pid)
        try:
            wire.send_message(self.control, {"type": "spawned", "pid": pid},
                              [pool_end.fileno(), out_r, err_r, pidfd])
        except OSError as exc:
            os.kill(pid, signal.SIGKILL)
            wire.send_message(self.control, {"type": "spawn_failed", "error": str(exc)})
        finally:
            pool_end.close()
            for fd in (out_r, err_r, pidfd):
                os.close(fd)

    def reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            if not self.namespaces:  # without a private tmpfs the child's scratch is on disk
                shutil.rmtree(os.path.join(self.paths.scratch_root, str(pid)), ignore_errors=True)
            wire.send_message(self.control, {
                "type": "exited", "pid": pid, "status": status,
                "cpu_s": usage.ru_utime + usage.ru_stime, "peak_memory_bytes": usage.ru_maxrss * 1024})

    def kill_children(self, wait_s: float = 2.0) -> None:
        """Kill every child and reap it, so none outlives the zygote's own exit."""
        import time

        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    self.children.discard(pid)
            if self.children:
                time.sleep(0.01)

    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        control_fd = self.control.fileno()
        try:
            self._loop(control_fd, wake_r)
        except OSError:
            pass  # the pool closed the channel while we were answering: shut down
        finally:
            self.kill_children()

    def _loop(self, control_fd: int, wake_r: int) -> None:
        while True:
            try:
                readable, _, _ = select.select([control_fd, wake_r], [], [])
            except InterruptedError:
                continue
            if wake_r in readable:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                self.reap()
            if control_fd in readable:
                message, fds = wire.recv_message(self.control)
                for fd in fds:
                    os.close(fd)
                if message is None:
                    return  # the pool is gone
                if message.get("type") == "spawn":
                    self.spawn()


def compact_heap() -> None:
    """Free what the warm-up left behind: every mapped page is copied at each fork."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # glibc: return free heap pages to the kernel
    except (AttributeError, OSError):
        pass


def probe_user_namespaces() -> None:
    """Can this process create user and mount namespaces at all? (checked in a throwaway child)"""
    pid = os.fork()
    if pid == 0:
        try:
            linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS)
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise IsolationError("user namespaces are unavailable: unshare(CLONE_NEWUSER) is not permitted")


def _stop(signum, frame):
    raise SystemExit(0)


def main(argv: list[str]) -> None:
    control_fd, expected_parent = int(argv[1]), int(argv[2])
    logging.basicConfig(level=settings.LOG_LEVEL.get().upper(),
                        format="%(asctime)s zygote %(levelname)s %(message)s")
    linux.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != expected_parent:
        os._exit(1)  # the pool died before we could tie our life to it
    signal.signal(signal.SIGTERM, _stop)
    control = socket.socket(fileno=control_fd)
    message, _ = wire.recv_message(control)
    if not message or message.get("type") != "configure":
        os._exit(2)
    config = SandboxConfig.from_message(message["config"])
    paths = JailPaths(**message["paths"])
    try:
        if paths.use_namespaces:
            probe_user_namespaces()  # fail in milliseconds, before the slow warm-up
        warm_up()
        compact_heap()
        zygote = Zygote(control, config, paths, find_hot_pages(config) if config.prefault else ())
        isolation = zygote.set_up()
    except BaseException as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        LOG.error("set-up failed: %s", detail)
        kind = ("unreachable" if isinstance(exc, JailUnreachable)
                else "isolation" if isinstance(exc, IsolationError) else "setup")
        wire.send_message(control, {"type": "fatal", "kind": kind, "error": detail})
        os._exit(3)
    wire.send_message(control, {"type": "ready", "pid": os.getpid(), "isolation": isolation})
    zygote.serve()


if __name__ == "__main__":
    main(sys.argv)
