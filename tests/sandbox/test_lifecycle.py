"""Zygote respawn, clean shutdown, and no orphans whatever happens to the server."""
from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import grpc

from percept_sandbox.api import sandbox_pb2

from .harness import SandboxServer, corpus_program


def wait_for(predicate, timeout_s: float = 60.0, interval_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError("condition not reached in time")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_dead_zygote_is_respawned(sandbox_server, sandbox):
    restarts = sandbox_server.metric_value("percept_sandbox_zygote_restarts_total")
    old_zygote = sandbox_server.zygote_pid()
    assert old_zygote is not None
    in_flight = {}

    def slow_render():
        try:
            in_flight["result"] = sandbox.render("import time\ntime.sleep(3)\n", timeout_s=10)
        except grpc.RpcError as error:
            in_flight["result"] = error

    worker = threading.Thread(target=slow_render)
    worker.start()
    time.sleep(0.5)
    os.kill(old_zygote, signal.SIGKILL)
    worker.join(timeout=30)
    lost = in_flight["result"]
    assert isinstance(lost, grpc.RpcError) and lost.code() is grpc.StatusCode.UNAVAILABLE
    wait_for(lambda: sandbox_server.metric_value("percept_sandbox_zygote_restarts_total") == restarts + 1)
    sandbox_server.wait_healthy()
    new_zygote = wait_for(sandbox_server.zygote_pid)
    assert new_zygote != old_zygote
    response = sandbox.render(corpus_program("s01_sine_cosine.py"))
    assert response.status == sandbox_pb2.RENDER_STATUS_OK
    assert not alive(old_zygote)


def test_sigterm_stops_cleanly_leaving_no_process_or_file(tmp_path):
    server = SandboxServer(workers=1, queue_size=0, env={"PERCEPT_SANDBOX_RUNTIME_DIR": str(tmp_path)})
    with server:
        with server.client() as client:
            assert client.render(corpus_program("s04_histogram_normal.py")).status == sandbox_pb2.RENDER_STATUS_OK
        tree = server.tree()
        assert len(tree) >= 2  # the zygote and a pre-forked child
        assert server.stop() == 0
    wait_for(lambda: not any(alive(pid) for pid in tree), timeout_s=10)
    assert list(tmp_path.iterdir()) == []


SYS_TGKILL = {"x86_64": 234, "aarch64": 131}   # tgkill(2): a signal to one thread of a process


def _signal_thread(pid: int, tid: int, sig: int) -> None:
    import ctypes
    import platform

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(SYS_TGKILL[platform.machine()], pid, tid, int(sig)) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {sig})")


def _threads_taking(pid: int, sig: int) -> list[int]:
    """The process's threads other than the main one that do not block `sig` (from /proc's SigBlk masks)."""
    taking = []
    for tid in sorted(int(name) for name in os.listdir(f"/proc/{pid}/task")):
        status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        blocked = int(re.search(r"^SigBlk:\s*([0-9a-f]+)", status, re.M).group(1), 16)
        if tid != pid and not blocked & (1 << (int(sig) - 1)):
            taking.append(tid)
    return taking


def test_a_sigterm_the_kernel_hands_to_a_worker_thread_still_stops_the_server(tmp_path):
    """A process's SIGTERM may be delivered to any thread that does not block it, gRPC's among them, and
    Python runs the handler in the main thread only: the main thread must wake to run it (a wait without
    a timeout slept through it, and the server ran until killed). Sent here to one such thread directly,
    as the kernel may, while a render is in flight."""
    server = SandboxServer(workers=1, queue_size=0, env={"PERCEPT_SANDBOX_RUNTIME_DIR": str(tmp_path)})
    with server:
        with server.client() as client:
            assert client.render(corpus_program("s04_histogram_normal.py")).status == sandbox_pb2.RENDER_STATUS_OK
            threading.Thread(target=lambda: _ignore_errors(client.render, "import time\ntime.sleep(2)\n",
                                                           timeout_s=30), daemon=True).start()
            time.sleep(0.5)
            taking = _threads_taking(server.process.pid, signal.SIGTERM)
            assert taking, "every thread but the main one blocks SIGTERM: the kernel can only hand it to the main one"
            _signal_thread(server.process.pid, taking[-1], signal.SIGTERM)
            started = time.monotonic()
            while server.process.poll() is None and time.monotonic() - started < 15:
                time.sleep(0.1)
            assert server.process.poll() == 0, f"still running 15 s after the SIGTERM:\n{server.log_text()[-3000:]}"


def test_killed_server_takes_its_zygote_and_children_with_it(tmp_path):
    server = SandboxServer(workers=2, queue_size=0, env={"PERCEPT_SANDBOX_RUNTIME_DIR": str(tmp_path)})
    with server:
        with server.client() as client:
            threading.Thread(target=lambda: _ignore_errors(client.render, "import time\ntime.sleep(30)\n",
                                                           timeout_s=60), daemon=True).start()
            time.sleep(1.0)
            tree = server.tree()
            assert len(tree) >= 3  # zygote, a running child, pre-forked children
            server.process.kill()
            server.process.wait()
            wait_for(lambda: not any(alive(pid) for pid in tree), timeout_s=10)
    # The next runner using this directory removes what the killed one left behind.
    with SandboxServer(workers=1, queue_size=0, env={"PERCEPT_SANDBOX_RUNTIME_DIR": str(tmp_path)}):
        assert len(list(tmp_path.iterdir())) == 1


def _ignore_errors(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except grpc.RpcError:
        pass


def test_prefaulting_children_render_the_same_images(sandbox):
    reference = sandbox.render(corpus_program("s13_heatmap.py")).figures[0].data
    with SandboxServer(workers=1, queue_size=0, env={"PERCEPT_SANDBOX_PREFAULT": "1"}) as server:
        with server.client() as client:
            response = client.render(corpus_program("s13_heatmap.py"))
        log = server.log_text()
    assert response.status == sandbox_pb2.RENDER_STATUS_OK, (response.detail, log[-3000:])
    assert response.figures[0].data == reference
    found = re.search(r"pre-faulting (\d+) pages", log)
    assert found and int(found.group(1)) > 500, log[-3000:]  # the probes found a hot set
