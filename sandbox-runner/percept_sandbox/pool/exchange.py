"""One render's exchange with one untrusted jailed child.

The pool sends the request, then reads the child's result channel and both
output pipes at once, against byte budgets and a hard deadline; whatever the
child sends is parsed defensively, and a child that dies without a result is
classified from its exit status (reported by the zygote).
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import time

from ..config import SandboxConfig
from ..errors import SandboxUnavailable
from ..render import wire
from ..render.results import ImageFormat, RenderedFigure, RenderOptions, RenderResult, Status
from .zygote_handle import ExitInfo, JailedChild

KILL_GRACE_S = 1.0  # after the child's own timer, before the pool kills it
EXIT_INFO_WAIT_S = 2.0
MAX_RESULT_HEADER_BYTES = 64 * 1024
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS}


class Tail:
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


def run_render(child: JailedChild, code: str, options: RenderOptions, timeout_s: float,
               cfg: SandboxConfig) -> RenderResult | None:
    """The program's result, or None if the child was dead before it received the program."""
    request = {"dpi": options.dpi, "format": options.format.value, "timeout_s": timeout_s,
               "trace": options.trace}
    started = time.perf_counter()
    try:
        wire.send_frames(child.channel, [json.dumps(request).encode(), code.encode("utf-8", "surrogatepass")])
    except OSError:
        return None  # dead before it saw the program (its zygote died): another child runs it
    stdout, stderr = Tail(cfg.output_tail_bytes), Tail(cfg.output_tail_bytes)
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
        fill_usage_from_exit(child, result)
        return result
    if received:
        try:
            parse_result(bytes(received), result, cfg)
            return result
        except (wire.ProtocolError, ValueError, KeyError, TypeError) as exc:
            result.status = Status.EXEC_ERROR
            result.error_type = "ProtocolError"
            result.error_message = f"the program corrupted the runner's result channel: {exc}"
            result.detail = result.error_message
            child.kill()
            fill_usage_from_exit(child, result)
            return result
    # No result: the child died (crash, CPU limit, program exit), or its zygote died.
    if not child.exited.wait(EXIT_INFO_WAIT_S) or child.exit_info is None:
        child.kill()
        raise SandboxUnavailable("the jailed worker was lost (its zygote died); retry the request")
    classify_exit(child.exit_info, result, timeout_s, cfg)
    return result


def fill_usage_from_exit(child: JailedChild, result: RenderResult) -> None:
    if child.exited.wait(EXIT_INFO_WAIT_S) and child.exit_info is not None:
        result.cpu_s = child.exit_info.cpu_s
        result.peak_memory_bytes = child.exit_info.peak_memory_bytes


def classify_exit(info: ExitInfo, result: RenderResult, timeout_s: float, cfg: SandboxConfig) -> None:
    """Status of a child that died without a result."""
    result.cpu_s, result.peak_memory_bytes = info.cpu_s, info.peak_memory_bytes
    kind, description = info.describe()
    cpu_limit = cfg.cpu_limit_s(timeout_s)
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


def parse_result(data: bytes, result: RenderResult, cfg: SandboxConfig) -> None:
    """Fill `result` from the frames a child sent; raises on anything malformed."""
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
    for index, (meta, image) in enumerate(zip(figures_meta, images, strict=True)):
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
