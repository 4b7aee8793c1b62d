"""One jailed render: the life of a child forked from the zygote.

It finishes its own jail while it waits to be used (so none of this is on the
critical path), tells the pool it is ready, runs exactly one program and exits:

    new namespaces (by clone) -> its own id maps -> stdio and descriptors
    -> private /tmp, hostname -> clean environment, caches, logging -> rlimits
    -> drop capabilities -> no_new_privs -> seccomp (no new processes from here on)
    -> "ready" -> one request -> result -> exit

It is PID 1 of its own PID namespace: when it exits, or is killed, everything
the program started dies with it.
"""
from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import resource
import signal
import socket
import sys
import time
from dataclasses import dataclass

from . import caches, execute, filesystem, linux, prefault, processes, trace, wire
from .results import ImageFormat, Status
from .userns import write_own_id_maps

RENDER_FD = 3  # the child's end of its render channel
RESERVE_BYTES = 8 * 1024 * 1024  # released on MemoryError so the child can still report
MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChildPlan:
    """The same for every child of one zygote."""

    isolated: bool  # namespaces and the jail filesystem
    seccomp_program: bytes | None
    env: dict
    tmpfs_bytes: int
    memory_bytes: int
    file_bytes: int
    processes: int
    open_files: int
    max_cpu_s: int
    max_code_bytes: int
    max_figures: int
    max_figure_pixels: int
    max_image_bytes: int
    max_trace_bytes: int
    scratch_root: str  # insecure mode only: where private working directories go
    jail_uid: int
    jail_gid: int
    prefault_ranges: tuple = ()  # (start, length) of the pages every render writes
    tmp_shadows: tuple = ()  # (alias, path, is_dir): jail paths under /tmp to bind back over the tmpfs


def _reset_signals() -> None:
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over-long files fail with EFBIG instead


def _arrange_descriptors(render_fd: int, stdout_fd: int, stderr_fd: int) -> None:
    """0 = /dev/null, 1/2 = pipes to the pool, 3 = render channel; nothing else stays open."""
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.dup2(render_fd, RENDER_FD)
    os.closerange(RENDER_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    for fd in (0, 1, 2, RENDER_FD):
        os.set_inheritable(fd, True)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stdin = open(0, "r", closefd=False)


def _apply_rlimits(plan: ChildPlan) -> None:
    limits = {
        resource.RLIMIT_AS: plan.memory_bytes,
        resource.RLIMIT_FSIZE: plan.file_bytes,
        resource.RLIMIT_NPROC: plan.processes,
        resource.RLIMIT_NOFILE: plan.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_MEMLOCK: 0,
        resource.RLIMIT_MSGQUEUE: 0,
        resource.RLIMIT_CPU: plan.max_cpu_s,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def _enter_insecure_scratch(plan: ChildPlan) -> str:
    """Without namespaces: a private working directory and, as root, the jail's identity."""
    scratch = os.path.join(plan.scratch_root, str(os.getpid()))
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(scratch, plan.jail_uid, plan.jail_gid)
        os.setgroups([])
        os.setresgid(plan.jail_gid, plan.jail_gid, plan.jail_gid)
        os.setresuid(plan.jail_uid, plan.jail_uid, plan.jail_uid)
    return scratch


def _forget_runner_logging() -> None:
    """The zygote's log handlers write to fd 2, now the program's stderr: a render's
    stderr holds what the program wrote, so logging starts as in a fresh interpreter."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def prepare(plan: ChildPlan, channel: socket.socket) -> str:
    """Finish the jail; returns the working directory. Runs before the child is offered."""
    if plan.isolated:
        filesystem.mount_private_tmp(plan.tmpfs_bytes, plan.tmp_shadows)
        socket.sethostname("sandbox")
        workdir = filesystem.JAIL_TMP
    else:
        workdir = _enter_insecure_scratch(plan)
    os.setsid()  # no controlling terminal to push input into
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(plan.env)
    os.environ.update(caches.cache_environment(workdir))
    caches.point_matplotlib_caches(workdir)
    _forget_runner_logging()
    sys.argv = [execute.FILENAME]
    _apply_rlimits(plan)
    if plan.isolated:
        linux.drop_all_capabilities()
    linux.set_no_new_privs()
    if plan.seccomp_program:
        linux.load_seccomp_bpf(plan.seccomp_program)
    processes.refuse_process_creation()
    prefault.populate(plan.prefault_ranges)  # copy-on-write now, not while the program runs
    return workdir


class _Clock:
    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def report(self) -> dict:
        # The render is this one process (new processes are refused), so its peak
        # resident set, threads included, is the whole render's. It counts the pages
        # shared with the zygote too: an upper bound on what the render added.
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"wall_s": time.perf_counter() - self.wall, "cpu_s": self._cpu() - self.cpu,
                "peak_memory_bytes": peak_kib * 1024}


def _raise_timeout(signum, frame):
    raise execute.RenderTimeout()


def serve_one(plan: ChildPlan, channel: socket.socket) -> None:
    """Receive one request, run it, send the result."""
    header_bytes = wire.recv_frame(channel, MAX_HEADER_BYTES)
    if header_bytes is None:
        return  # the pool retired this child unused
    code_bytes = wire.recv_frame(channel, plan.max_code_bytes)
    request = json.loads(header_bytes)
    dpi = int(request["dpi"])
    fmt = ImageFormat(request["format"])
    timeout_s = float(request["timeout_s"])
    want_trace = bool(request["trace"])
    code = (code_bytes or b"").decode("utf-8", errors="replace")

    # The per-request CPU limit only ever lowers the one set at spawn.
    cpu_s = min(plan.max_cpu_s, int(timeout_s) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    # Address space held back (never touched, so it costs no memory) and given up on
    # MemoryError, so the report can still be built under the address-space limit.
    reserve = mmap.mmap(-1, RESERVE_BYTES)
    clock = _Clock()
    header: dict = {"status": Status.OK.value, "figures": [], "trace": ""}
    images: list[bytes] = []
    recorder = execute.FigureRecorder()
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.signal(signal.SIGXCPU, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        recorder.install()
        compiled = execute.compile_program(code)
        outcome = compiled if isinstance(compiled, execute.Outcome) else execute.run_program(compiled)
        if outcome.status is None:
            figures = recorder.figures()
            if not figures:
                outcome = execute.Outcome(Status.NO_FIGURE, detail="the program drew no figure")
            else:
                limits = execute.FigureLimits(plan.max_figures, plan.max_figure_pixels, plan.max_image_bytes)
                drawn = trace.DrawRecorder()
                with drawn.installed() if want_trace else contextlib.nullcontext():
                    rendered = execute.render_figures(recorder, figures, dpi, fmt, limits)
                images = [f.data for f in rendered]
                header["figures"] = [{"index": f.index, "format": f.format.value, "width_px": f.width_px,
                                      "height_px": f.height_px, "bytes": len(f.data)} for f in rendered]
                if want_trace:
                    header["trace"] = trace.build_trace(figures, dpi, plan.max_trace_bytes, drawn)
                outcome = execute.Outcome(Status.OK)
    except execute.RenderTimeout:
        outcome = execute.Outcome(Status.TIMEOUT, "TimeoutError", "the program ran past its time limit")
    except MemoryError:
        outcome = execute.Outcome(Status.MEMORY_LIMIT, "MemoryError", "out of memory",
                                  "the program exceeded its memory limit")
    except execute.OutputLimitExceeded as exc:
        outcome = execute.Outcome(Status.OUTPUT_LIMIT, "OutputLimitExceeded", str(exc), str(exc))
    except Exception as exc:  # drawing the program's figure failed: the program's fault
        outcome = execute.Outcome(Status.EXEC_ERROR, execute.type_name(exc), execute.safe_str(exc),
                                  "rendering the figure failed")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if outcome.status is Status.MEMORY_LIMIT:
        reserve.close()  # room to build and send the report
    if outcome.status is not Status.OK:
        images, header["figures"], header["trace"] = [], [], ""
    header.update({"status": outcome.status.value, "error_type": outcome.error_type,
                   "error_message": outcome.error_message[:4096], "detail": outcome.detail[:1024]})
    header.update(clock.report())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    wire.send_frames(channel, [json.dumps(header).encode()] + images)


def main(plan: ChildPlan, render_fd: int, stdout_fd: int, stderr_fd: int, proc_fd: int | None) -> None:
    """Entry point right after clone/fork; never returns."""
    code = 0
    try:
        linux.set_parent_death_signal(signal.SIGKILL)
        _reset_signals()
        setup_error = None
        if plan.isolated:
            try:
                write_own_id_maps(proc_fd)
            except OSError as exc:
                setup_error = exc
        _arrange_descriptors(render_fd, stdout_fd, stderr_fd)  # closes proc_fd too
        channel = socket.socket(fileno=RENDER_FD)
        try:
            if setup_error is not None:
                raise setup_error
            prepare(plan, channel)
        except BaseException as exc:
            wire.send_frames(channel, [json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}).encode()])
            os._exit(3)
        wire.send_frames(channel, [json.dumps({"ready": True}).encode()])
        serve_one(plan, channel)
        # Close the channel and pipes now: tearing down this large process takes
        # milliseconds, and the pool should not wait for that to see the end.
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        channel.close()
        os.close(1)
        os.close(2)
    except BaseException:  # the pool notices the missing result; the traceback helps operators
        code = 1
        try:
            import traceback

            traceback.print_exc()
        except BaseException:
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code)
