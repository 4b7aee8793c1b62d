"""End to end, real processes: the service with the `reference` backend, the real sandbox,
the STEM-style corpus. Each dataset image comes back as its own program, rendered and
scored against the input: the self-check of the whole path (aggregate fidelity >= 0.99)."""
from __future__ import annotations

import json

import grpc
import pytest

from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.protos import sandbox_pb2

from .harness import CodePerceptionServer

# Programs of different kinds (lines, geometry, 3D, two figures, text-heavy).
PROGRAMS = ["s01_sine_cosine", "s02_triangle_geometry", "s06_surface3d", "s07_circuit", "s15_two_figures"]


@pytest.fixture(scope="module")
def service(sandbox, sample_dataset):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="reference",
                              PERCEPT_CODEPERCEPTION_DATASET_DIR=str(sample_dataset)) as server:
        yield server


def _image(sample_dataset, stem: str) -> bytes:
    return (sample_dataset / "images" / f"{stem}.png").read_bytes()


def _ground_truth(sample_dataset, stem: str) -> str:
    for line in (sample_dataset / "data.jsonl").read_text().splitlines():
        messages = json.loads(line)["messages"]
        if messages[1]["content"][0]["image"] == f"{stem}.png":
            return messages[3]["content"][0]["text"]
    raise KeyError(stem)


@pytest.mark.parametrize("stem", PROGRAMS)
def test_reference_backend_reproduces_each_image(service, sample_dataset, stem):
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(
            pb.ImageToCodeRequest(image=_image(sample_dataset, stem), request_id=f"e2e-{stem}"), timeout=60)
    assert response.backend == "reference" and len(response.candidates) == 1
    best = response.candidates[response.best_index]
    assert best.status == pb.CANDIDATE_STATUS_OK, best.detail
    assert response.code.strip() == _ground_truth(sample_dataset, stem).strip()
    assert response.fidelity.mode == pb.FIDELITY_MODE_IMAGE_ONLY
    assert response.fidelity.aggregate >= 0.99, response.fidelity
    assert response.render_png.startswith(b"\x89PNG")
    assert response.caption  # built from the chosen program's execution trace


def test_score_with_reference_code_computes_trace_metrics(service, sample_dataset):
    stem = "s02_triangle_geometry"
    code = _ground_truth(sample_dataset, stem)
    with service.channel() as channel:
        response = service.stub(channel).Score(pb.ScoreRequest(
            reference_image=_image(sample_dataset, stem), reference_code=code, candidate_code=code), timeout=60)
    assert response.candidate_status == pb.CANDIDATE_STATUS_OK
    assert response.reference_status == pb.CANDIDATE_STATUS_OK
    assert response.fidelity.mode == pb.FIDELITY_MODE_IMAGE_AND_TRACE
    assert {"ssim", "text_f1", "layout_f1", "type_f1", "color_f1"} <= set(response.fidelity.computed)
    assert response.fidelity.aggregate >= 0.99, response.fidelity


def test_score_image_only_and_a_broken_candidate_scores_zero(service, sample_dataset):
    image = _image(sample_dataset, "s01_sine_cosine")
    other = _ground_truth(sample_dataset, "s13_heatmap")
    with service.channel() as channel:
        stub = service.stub(channel)
        different = stub.Score(pb.ScoreRequest(reference_image=image, candidate_code=other), timeout=60)
        broken = stub.Score(pb.ScoreRequest(reference_image=image, candidate_code="raise ValueError('no')"),
                            timeout=60)
    assert different.fidelity.mode == pb.FIDELITY_MODE_IMAGE_ONLY
    assert different.reference_status == pb.CANDIDATE_STATUS_UNSPECIFIED
    assert different.fidelity.aggregate < 0.9
    assert broken.candidate_status == pb.CANDIDATE_STATUS_EXEC_ERROR
    assert broken.fidelity.aggregate == 0.0 and not broken.candidate_render_png


def test_render_passes_through_to_the_sandbox(service, sample_dataset, sandbox):
    code = _ground_truth(sample_dataset, "s09_polar_rose")
    request = sandbox_pb2.RenderRequest(code=code, options=sandbox_pb2.RenderOptions(dpi=50))
    with service.channel() as channel:
        ours = service.stub(channel).Render(request, timeout=60)
    with sandbox.client() as client:
        direct = client.stub.Render(request, timeout=60)
    assert ours.status == sandbox_pb2.RENDER_STATUS_OK
    assert ours.figures[0].data == direct.figures[0].data
    assert ours.trace_json == direct.trace_json


def test_an_image_the_dataset_lacks_is_not_found(service):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "purple").save(buffer, format="PNG")
    with service.channel() as channel, pytest.raises(grpc.RpcError) as caught:
        service.stub(channel).ImageToCode(pb.ImageToCodeRequest(image=buffer.getvalue()), timeout=30)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert ("percept-error-code", "not_found") in tuple(caught.value.trailing_metadata())
    assert service.serving()
