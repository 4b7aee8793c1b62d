"""One jailed render: the life of a child forked from the zygote.

It finishes its own jail while it waits to be used (jail/confine.py), tells the
pool it is ready, runs exactly one program through the render sequence
(render/sequence.py) and exits:

    new namespaces (by clone) -> its own id maps -> stdio and descriptors -> confine
    -> "ready" -> one request -> render -> result -> exit

It is PID 1 of its own PID namespace and cannot start processes: when it exits,
or is killed, everything of the render is gone.
"""
from __future__ import annotations

import json
import mmap
import os
import resource
import signal
import socket
import sys
import time

from ..jail import confine, linux
from ..jail.userns import write_own_id_maps
from ..render import sequence, wire
from ..render.protocol import Outcome, RenderTimeout
from ..render.results import ImageFormat, RenderOptions, Status

RENDER_FD = 3  # the child's end of its render channel
RESERVE_BYTES = 8 * 1024 * 1024  # released on MemoryError so the child can still report
MAX_HEADER_BYTES = 64 * 1024
MAX_ERROR_MESSAGE, MAX_DETAIL = 4096, 1024


class _Clock:
    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return own.ru_utime + own.ru_stime

    def report(self) -> dict:
        # The render is this one process (new processes are refused), so its peak
        # resident set, threads included, is the whole render's. It counts the pages
        # shared with the zygote too: an upper bound on what the render added.
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"wall_s": time.perf_counter() - self.wall, "cpu_s": self._cpu() - self.cpu,
                "peak_memory_bytes": peak_kib * 1024}


def _raise_timeout(signum, frame):
    raise RenderTimeout()


def _receive_request(plan: confine.ChildPlan, channel: socket.socket) -> tuple[str, RenderOptions] | None:
    header_bytes = wire.recv_frame(channel, MAX_HEADER_BYTES)
    if header_bytes is None:
        return None  # the pool retired this child unused
    code_bytes = wire.recv_frame(channel, plan.config.max_code_bytes)
    request = json.loads(header_bytes)
    options = RenderOptions(dpi=int(request["dpi"]), format=ImageFormat(request["format"]),
                            timeout_s=float(request["timeout_s"]), trace=bool(request["trace"]))
    return (code_bytes or b"").decode("utf-8", errors="replace"), options


def serve_one(plan: confine.ChildPlan, channel: socket.socket) -> None:
    """Receive one request, run it through the render sequence, send the result."""
    request = _receive_request(plan, channel)
    if request is None:
        return
    code, options = request
    # The per-request CPU limit only ever lowers the one set at spawn.
    cpu_s = plan.config.cpu_limit_s(options.timeout_s)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    # Address space held back (never touched, so it costs no memory) and given up on
    # MemoryError, so the report can still be built under the address-space limit.
    reserve = mmap.mmap(-1, RESERVE_BYTES)
    clock = _Clock()
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.signal(signal.SIGXCPU, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, options.timeout_s)
    try:
        output = sequence.render(code, options, plan.config.render_limits())
    except RenderTimeout:  # the timer fired between the sequence's end and here
        output = sequence.RenderOutput(Outcome(Status.TIMEOUT, "TimeoutError", "the program ran past its time limit"))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    outcome = output.outcome
    if outcome.status is Status.MEMORY_LIMIT:
        reserve.close()  # room to build and send the report
    header = {"status": outcome.status.value, "error_type": outcome.error_type,
              "error_message": outcome.error_message[:MAX_ERROR_MESSAGE], "detail": outcome.detail[:MAX_DETAIL],
              "figures": [{"index": f.index, "format": f.format.value, "width_px": f.width_px,
                           "height_px": f.height_px, "bytes": len(f.data)} for f in output.figures],
              "trace": output.trace_json}
    header.update(clock.report())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    wire.send_frames(channel, [json.dumps(header).encode()] + [f.data for f in output.figures])


def main(plan: confine.ChildPlan, render_fd: int, stdout_fd: int, stderr_fd: int, proc_fd: int | None) -> None:
    """Entry point right after clone/fork; never returns."""
    code = 0
    try:
        linux.set_parent_death_signal(signal.SIGKILL)
        confine.reset_signals()
        setup_error = None
        if plan.isolated:
            try:
                write_own_id_maps(proc_fd)
            except OSError as exc:
                setup_error = exc
        confine.arrange_descriptors(render_fd, stdout_fd, stderr_fd, RENDER_FD)  # closes proc_fd too
        channel = socket.socket(fileno=RENDER_FD)
        try:
            if setup_error is not None:
                raise setup_error
            confine.prepare(plan)
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
