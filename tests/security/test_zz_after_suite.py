"""After the hostile suite (this module runs last): the runner is healthy, nothing
is left behind on the host, and the next benign render is correct."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from grpc_health.v1 import health_pb2

from percept_sandbox.api import sandbox_pb2
from tests.sandbox.harness import corpus_program, process_table

from .conftest import REFERENCE_PROGRAM, orphaned_jail_processes


def test_the_runner_is_healthy(hostile):
    server = hostile.server
    assert server.process.poll() is None
    assert server.health() == health_pb2.HealthCheckResponse.SERVING
    assert server.metric_value("percept_sandbox_zygote_restarts_total") == 0  # no program took the zygote down
    assert server.metric_value("percept_sandbox_in_flight_renders") == 0


def test_no_stray_processes_remain(hostile):
    server = hostile.server
    zygote = server.zygote_pid()
    deadline = time.monotonic() + 15
    while True:
        table = process_table()
        tree = server.tree()
        workers = [pid for pid in tree if pid != zygote]
        settled = all(table.get(pid, (None,))[0] == zygote for pid in workers) and len(workers) <= server.workers
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # Only the zygote and its pre-forked workers: no program's process or thread survived.
    assert settled, {pid: table.get(pid) for pid in tree}
    strays = orphaned_jail_processes() - hostile.baseline_jail_processes - set(tree)
    assert not strays, {pid: table.get(pid) for pid in strays}


def test_no_stray_files_remain(hostile):
    runtime = [p for p in hostile.runtime_dir.iterdir()]
    assert len(runtime) == 1 and runtime[0].name.startswith("percept-sandbox-")
    assert sorted(p.name for p in runtime[0].iterdir()) == ["jail-root", "owner.pid", "scratch"]
    assert not list((runtime[0] / "jail-root").iterdir()) and not list((runtime[0] / "scratch").iterdir())
    assert not list(hostile.markers_dir.iterdir())
    host_tmp = Path(tempfile.gettempdir())
    for name in ("late", "pwned", "fine.txt", "fill", "shared.txt"):  # written to the jail's /tmp
        assert not (host_tmp / name).exists()


def test_the_next_benign_render_is_correct(hostile):
    response = hostile.client.render(corpus_program(REFERENCE_PROGRAM))
    assert response.status == sandbox_pb2.RENDER_STATUS_OK
    assert response.figures[0].data == hostile.reference_png
    for name in ("s06_surface3d.py", "s13_heatmap.py"):
        assert hostile.client.render(corpus_program(name)).status == sandbox_pb2.RENDER_STATUS_OK
