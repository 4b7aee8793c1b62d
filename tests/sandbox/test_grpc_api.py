"""The gRPC surface: health, reflection, request validation, back-pressure, metrics."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from percept_sandbox.api import ERROR_CODE_KEY, SERVICE_NAME, sandbox_pb2
from percept_sandbox.client import retry_after_ms

from .harness import corpus_program

SLEEPER = "import time\nimport matplotlib.pyplot as plt\ntime.sleep({seconds})\nplt.plot([1, 2])\n"


def metadata(error: grpc.RpcError) -> dict:
    return dict(error.trailing_metadata() or ())


def test_health_reports_serving(sandbox_server):
    assert sandbox_server.health() == health_pb2.HealthCheckResponse.SERVING
    assert sandbox_server.health(SERVICE_NAME) == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(sandbox_server):
    with grpc.insecure_channel(sandbox_server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"percept.sandbox.v1.SandboxService", "grpc.health.v1.Health"} <= names


@pytest.mark.parametrize("kwargs, code", [
    ({"code": "x = 1\n" * 60_000}, "payload_too_large"),
    ({"code": "x = 1", "dpi": 100_000}, "invalid_request"),
    ({"code": "x = 1", "timeout_s": 10_000}, "invalid_request"),
    ({"code": "x = 1", "timeout_s": -1}, "invalid_request"),
])
def test_bad_requests_are_invalid_argument_with_a_stable_code(sandbox, kwargs, code):
    with pytest.raises(grpc.RpcError) as caught:
        sandbox.render(**kwargs)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert metadata(caught.value)[ERROR_CODE_KEY] == code


def test_unknown_image_format_is_invalid_argument(sandbox):
    request = sandbox_pb2.RenderRequest(code="x = 1", options=sandbox_pb2.RenderOptions(format=99))
    with pytest.raises(grpc.RpcError) as caught:
        sandbox.stub.Render(request)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_full_queue_answers_resource_exhausted_with_a_retry_hint(sandbox_server, sandbox):
    # 2 workers + a queue of 2: of 8 simultaneous slow renders, 4 are turned away at once.
    capacity = sandbox_server.workers + sandbox_server.queue_size
    depth_seen = []

    def watch_queue():
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            depth_seen.append(sandbox_server.metric_value("percept_sandbox_queue_depth"))
            time.sleep(0.1)

    def attempt(_):
        try:
            return sandbox.render(SLEEPER.format(seconds=1.5), timeout_s=10)
        except grpc.RpcError as error:
            return error

    watcher = threading.Thread(target=watch_queue)
    watcher.start()
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    watcher.join()
    rejected = [o for o in outcomes if isinstance(o, grpc.RpcError)]
    served = [o for o in outcomes if not isinstance(o, grpc.RpcError)]
    assert len(served) == capacity and len(rejected) == 8 - capacity
    assert all(r.status == sandbox_pb2.RENDER_STATUS_OK for r in served)
    for error in rejected:
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert metadata(error)[ERROR_CODE_KEY] == "resource_exhausted"
        assert retry_after_ms(error) >= 100
    assert max(depth_seen) == sandbox_server.queue_size
    assert sandbox_server.metric_value("percept_sandbox_rejected_requests_total", 'reason="queue_full"') >= 4


def test_client_retry_waits_out_back_pressure(sandbox_server, sandbox):
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda _: sandbox.render(SLEEPER.format(seconds=0.5), retries=20), range(6)))
    assert [o.status for o in outcomes] == [sandbox_pb2.RENDER_STATUS_OK] * 6


def test_metrics_cover_statuses_latency_queue_and_restarts(sandbox_server, sandbox):
    before = sandbox_server.metric_value("percept_sandbox_renders_total", 'status="NO_FIGURE"')
    sandbox.render("x = 1\n")
    sandbox.render(corpus_program("s01_sine_cosine.py"))
    text = sandbox_server.metrics()
    assert sandbox_server.metric_value("percept_sandbox_renders_total", 'status="NO_FIGURE"') == before + 1
    assert sandbox_server.metric_value("percept_sandbox_renders_total", 'status="OK"') >= 1
    for status in ("EXEC_ERROR", "TIMEOUT", "MEMORY_LIMIT", "OUTPUT_LIMIT", "REJECTED"):
        assert f'percept_sandbox_renders_total{{status="{status}"}}' in text
    assert 'percept_sandbox_render_duration_seconds_bucket{le="0.1"}' in text
    assert sandbox_server.metric_value("percept_sandbox_render_duration_seconds_count") >= 2
    assert sandbox_server.metric_value("percept_sandbox_queue_depth") == 0
    assert "percept_sandbox_zygote_restarts_total" in text
    assert sandbox_server.metric_value("percept_sandbox_isolation_layer_enabled", 'layer="namespaces"') == 1
    assert sandbox_server.metric_value("percept_sandbox_isolation_layer_enabled", 'layer="seccomp"') == 1
