"""The async client the gateway uses, against the real service (reference backend) and sandbox:
answers as proto messages, refusals as PerceptError with the server's code and hint, and the
service's metrics after the calls."""
from __future__ import annotations

import asyncio

import pytest

from services.codeperception.client import CodePerceptionClient
from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.protos import sandbox_pb2
from services.common.errors import ErrorCode, PerceptError
from services.common.net import find_free_ports

from .harness import CodePerceptionServer


@pytest.fixture(scope="module")
def service(sandbox, sample_dataset):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="reference",
                              PERCEPT_CODEPERCEPTION_DATASET_DIR=str(sample_dataset)) as server:
        yield server


@pytest.fixture(scope="module")
def image(sample_dataset) -> bytes:
    return (sample_dataset / "images" / "s13_heatmap.png").read_bytes()


def test_each_rpc_through_the_client(service, image):
    async def calls():
        async with CodePerceptionClient(service.target) as client:
            assert await client.serving()
            result = await client.image_to_code(pb.ImageToCodeRequest(image=image, request_id="client-1"),
                                                timeout_s=60)
            events = [e async for e in client.image_to_code_stream(pb.ImageToCodeRequest(image=image), timeout_s=60)]
            render = await client.render(sandbox_pb2.RenderRequest(code=result.code), timeout_s=60)
            scored = await client.score(pb.ScoreRequest(reference_image=image, candidate_code=result.code),
                                        timeout_s=60)
            return result, events, render, scored

    result, events, render, scored = asyncio.run(calls())
    assert result.candidates[0].status == pb.CANDIDATE_STATUS_OK and result.fidelity.aggregate >= 0.99
    assert events[-1].result.code == result.code
    assert [e.progress.stage for e in events[:-1]] == [pb.PROGRESS_STAGE_GENERATED, pb.PROGRESS_STAGE_RENDERED,
                                                       pb.PROGRESS_STAGE_SCORED, pb.PROGRESS_STAGE_BEST_CHOSEN]
    assert render.status == sandbox_pb2.RENDER_STATUS_OK
    assert scored.fidelity.aggregate >= 0.99


def test_refusals_are_percept_errors_with_the_servers_code(service):
    async def refused(call):
        async with CodePerceptionClient(service.target) as client:
            with pytest.raises(PerceptError) as caught:
                await call(client)
            return caught.value

    not_image = asyncio.run(refused(lambda c: c.image_to_code(pb.ImageToCodeRequest(image=b"text"), timeout_s=30)))
    assert not_image.code is ErrorCode.INVALID_IMAGE and not_image.http_status == 422
    stream = asyncio.run(refused(lambda c: _drain(c.image_to_code_stream(pb.ImageToCodeRequest(image=b""),
                                                                          timeout_s=30))))
    assert stream.code is ErrorCode.EMPTY_IMAGE


def test_an_unreachable_service_is_upstream_unavailable():
    (port,) = find_free_ports(1)

    async def call():
        async with CodePerceptionClient(f"127.0.0.1:{port}") as client:
            assert not await client.serving(timeout_s=1)
            with pytest.raises(PerceptError) as caught:
                await client.render(sandbox_pb2.RenderRequest(code="x = 1"), timeout_s=2)
            return caught.value

    error = asyncio.run(call())
    assert error.code is ErrorCode.UPSTREAM_UNAVAILABLE and error.http_status == 503
    assert error.retry_after_s is not None


def test_metrics_follow_the_conventions(service, image):
    async def calls():
        async with CodePerceptionClient(service.target) as client:
            for _ in range(3):
                await client.image_to_code(pb.ImageToCodeRequest(image=image), timeout_s=60)
            with pytest.raises(PerceptError):
                await client.image_to_code(pb.ImageToCodeRequest(image=b"text"), timeout_s=30)

    asyncio.run(calls())
    text = service.metrics()
    for name in ("percept_codeperception_generation_duration_seconds_bucket{backend=\"reference\"",
                 "percept_codeperception_render_duration_seconds_bucket{",
                 "percept_codeperception_candidates_per_request_bucket{",
                 "percept_codeperception_fidelity_score_bucket{",
                 "percept_codeperception_requests_total{rpc=\"ImageToCode\"}",
                 "percept_codeperception_errors_total{code=\"invalid_image\",rpc=\"ImageToCode\"}"):
        assert name in text, name
    assert service.metric_value("percept_codeperception_render_duration_seconds_count", 'status="ok"') >= 3
    assert service.metric_value("percept_codeperception_fidelity_score_count", 'mode="image_only"') >= 3


async def _drain(stream):
    async for _ in stream:
        pass


def test_health_and_reflection_name_the_service(service):
    import grpc
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    with grpc.insecure_channel(service.target) as channel:
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert {"percept.codeperception.v1.CodePerceptionService", "grpc.health.v1.Health"} <= services
