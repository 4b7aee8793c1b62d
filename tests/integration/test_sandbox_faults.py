"""Faults of the sandbox-runner, with real processes: a zygote killed between renders.

A killed zygote may cost the renders in flight at that moment (the lifecycle tests
cover those); it must cost nothing after: the next render succeeds within a bounded
wait, the only failures on the way being UNAVAILABLE with a retry hint, and no
process of the old zygote is left behind.
"""
from __future__ import annotations

import os
import signal
import time

import grpc

from percept_sandbox.api import sandbox_pb2
from percept_sandbox.client import retry_after_ms
from tests.sandbox.harness import SandboxServer, corpus_program, process_table

RECOVERY_S = 120.0  # a fresh zygote imports and warms the libraries again


def _alive(pid: int) -> bool:
    entry = process_table().get(pid)
    if entry is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _render_retrying_unavailable(client, code: str, deadline_s: float):
    """Render, retrying only UNAVAILABLE answers that carry a retry hint; returns (response, waits)."""
    waits = []
    while True:
        try:
            return client.render(code, deadline_s=30), waits
        except grpc.RpcError as error:
            hint = retry_after_ms(error)
            assert error.code() is grpc.StatusCode.UNAVAILABLE and hint is not None, (error.code(), error.details())
            assert time.monotonic() + hint / 1000 < deadline_s, "the sandbox did not recover in time"
            waits.append(hint)
            time.sleep(hint / 1000)


def test_a_zygote_killed_between_renders_costs_no_render(tmp_path):
    program = corpus_program("s01_sine_cosine.py")
    server = SandboxServer(workers=2, queue_size=2, env={"PERCEPT_SANDBOX_RUNTIME_DIR": str(tmp_path)})
    with server:
        with server.client() as client:
            first = client.render(program)
            assert first.status == sandbox_pb2.RENDER_STATUS_OK
            zygote = server.zygote_pid()
            old_tree = [pid for pid in server.tree() if pid != server.process.pid]
            assert zygote in old_tree and len(old_tree) >= 2  # the zygote and its pre-forked children
            os.kill(zygote, signal.SIGKILL)
            started = time.monotonic()
            response, waits = _render_retrying_unavailable(client, program, started + RECOVERY_S)
            assert response.status == sandbox_pb2.RENDER_STATUS_OK, (response.detail, server.log_text()[-3000:])
            assert response.figures[0].data == first.figures[0].data
            assert server.zygote_pid() not in (None, zygote)
            # Nothing of the killed zygote survives: its pre-forked children died with it.
            deadline = time.monotonic() + 10
            while any(_alive(pid) for pid in old_tree) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not [pid for pid in old_tree if _alive(pid)]
            assert server.metric_value("percept_sandbox_zygote_restarts_total") == 1
        tree = server.tree()
        assert server.stop() == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in tree if _alive(pid)], "a process outlived the runner"
    assert list(tmp_path.iterdir()) == []
