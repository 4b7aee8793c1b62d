"""Code-perception -> sandbox gRPC is balanced per render, with the client configuration the chart renders.

The chart points PERCEPT_CODEPERCEPTION_SANDBOX_URL at `dns:///<headless Service>:<port>`; for a
headless Service, cluster DNS answers with one address per ready sandbox pod. No cluster DNS runs
here, so the live half gives the real client (SandboxRenderer, with its round_robin policy) what that
resolver yields, a list of pod addresses (gRPC's `ipv4:` target), backed by two real sandbox-runner
processes, and counts the renders each one served.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

import grpc
from prometheus_client import CollectorRegistry

from services.codeperception.deadline import Deadline
from services.codeperception.metrics import Metrics
from services.codeperception.protos import sandbox_pb2, sandbox_pb2_grpc
from services.codeperception.sandbox import SandboxRenderer
from services.common.grpc_channels import channel_options
from tests.helm.chart import NAMESPACE, env_of, one
from tests.prometheus_text import sample_total
from tests.sandbox.harness import SandboxServer

PROGRAM = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\n"
RENDERS = 6


def test_the_chart_points_the_client_at_every_sandbox_pod(default_objects):
    container = one(default_objects, "Deployment", "codeperception")["spec"]["template"]["spec"]["containers"][0]
    url = env_of(container)["PERCEPT_CODEPERCEPTION_SANDBOX_URL"]
    assert url.startswith("dns:///"), url
    host, port = url.removeprefix("dns:///").rsplit(":", 1)
    service_name, namespace, *_ = host.split(".")
    assert namespace == NAMESPACE and host.endswith(".svc.cluster.local")
    service = next(o for o in default_objects if o["kind"] == "Service" and o["metadata"]["name"] == service_name)
    assert service["spec"]["clusterIP"] == "None"  # headless: DNS returns the pods, not one virtual IP
    sandbox = one(default_objects, "Deployment", "sandbox")
    assert service["spec"]["selector"] == sandbox["spec"]["selector"]["matchLabels"]
    grpc_port = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
    assert grpc_port["port"] == int(port)
    assert sandbox["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == int(port)


def _renders_served(server: SandboxServer) -> int:
    return int(sample_total(server.metrics(), "percept_sandbox_renders_total") or 0)


async def _render_through_the_service_client(target: str) -> None:
    renderer = SandboxRenderer(target, default_timeout_s=30, sandbox_retry_s=5,
                               metrics=Metrics(CollectorRegistry()))
    try:
        for _ in range(RENDERS):
            response = await renderer.render(sandbox_pb2.RenderRequest(code=PROGRAM), Deadline.after(60))
            assert response.status == sandbox_pb2.RENDER_STATUS_OK, response
    finally:
        await renderer.close()


def _render_with_a_default_channel(target: str) -> None:
    """The same calls without a balancing policy (gRPC's default pick_first): what HTTP/2 does."""
    with grpc.insecure_channel(target, options=channel_options(64 * 1024 * 1024)) as channel:
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        for _ in range(RENDERS):
            stub.Render(sandbox_pb2.RenderRequest(code=PROGRAM), timeout=60)


@contextlib.contextmanager
def _two_sandbox_pods():
    servers = [SandboxServer(workers=1, queue_size=2) for _ in range(2)]
    try:
        with ThreadPoolExecutor(2) as pool:  # both start at once
            list(pool.map(SandboxServer.start, servers))
        yield servers
    finally:
        for server in servers:
            if server.process is not None:
                server.stop()
            os.unlink(server.log.name)


def test_renders_are_spread_over_every_pod_per_request_not_per_connection():
    with _two_sandbox_pods() as (first, second):
        pods = f"ipv4:{first.target},{second.target}"
        asyncio.run(_render_through_the_service_client(pods))
        balanced = (_renders_served(first), _renders_served(second))
        _render_with_a_default_channel(pods)
        pinned = (_renders_served(first) - balanced[0], _renders_served(second) - balanced[1])
    # round_robin: the calls take the ready pods in turn (the first ones may go out while only one
    # connection is up, so the split need not be exactly even)
    assert min(balanced) >= 2 and sum(balanced) == RENDERS, balanced
    assert sorted(pinned) == [0, RENDERS], pinned  # one connection: every render on one pod
