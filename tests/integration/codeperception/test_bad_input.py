"""Bad input over real gRPC: each case is INVALID_ARGUMENT with its stable code in
`percept-error-code`, never INTERNAL, and the service stays healthy after all of them."""
from __future__ import annotations

import io

import grpc
import pytest
from PIL import Image

from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.protos import sandbox_pb2

from .harness import CodePerceptionServer

MAX_CODE_BYTES = 4096


@pytest.fixture(scope="module")
def service(sandbox, sample_dataset):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="reference",
                              PERCEPT_CODEPERCEPTION_DATASET_DIR=str(sample_dataset),
                              PERCEPT_MAX_CANDIDATES="3",
                              PERCEPT_MAX_CODE_BYTES=str(MAX_CODE_BYTES)) as server:
        yield server


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def image(sample_dataset) -> bytes:
    return (sample_dataset / "images" / "s01_sine_cosine.png").read_bytes()


def _bomb() -> bytes:
    """A 10000 x 10000 PNG of a few KB: 100 M pixels, above the 40 M cap."""
    return _png(Image.new("1", (10_000, 10_000)))


CASES = {
    "not an image": ("ImageToCode", lambda img: pb.ImageToCodeRequest(image=b"%PDF-1.7 not an image"),
                     "invalid_image"),
    "truncated image": ("ImageToCode", lambda img: pb.ImageToCodeRequest(image=img[: len(img) // 2]),
                        "truncated_image"),
    "empty image": ("ImageToCode", lambda img: pb.ImageToCodeRequest(image=b""), "empty_image"),
    "decompression bomb": ("ImageToCode", lambda img: pb.ImageToCodeRequest(image=_bomb()), "image_too_large"),
    "candidates above the cap": ("ImageToCode", lambda img: pb.ImageToCodeRequest(
        image=img, options=pb.ImageToCodeOptions(candidates=4)), "invalid_request"),
    "unknown backend option": ("ImageToCode", lambda img: pb.ImageToCodeRequest(
        image=img, options=pb.ImageToCodeOptions(backend_options={"nope": "5"})), "invalid_request"),
    "temperature out of range": ("ImageToCode", lambda img: pb.ImageToCodeRequest(
        image=img, options=pb.ImageToCodeOptions(temperature=-1)), "invalid_request"),
    "negative render timeout": ("ImageToCode", lambda img: pb.ImageToCodeRequest(
        image=img, options=pb.ImageToCodeOptions(render_timeout_seconds=-1)), "invalid_request"),
    "empty code (Render)": ("Render", lambda img: sandbox_pb2.RenderRequest(code="  \n"), "invalid_request"),
    "oversized code (Render)": ("Render", lambda img: sandbox_pb2.RenderRequest(code="#" * (MAX_CODE_BYTES + 1)),
                                "payload_too_large"),
    "dpi the sandbox refuses (Render)": ("Render", lambda img: sandbox_pb2.RenderRequest(
        code="import matplotlib.pyplot as plt\nplt.plot([1])\n", options=sandbox_pb2.RenderOptions(dpi=100_000)),
        "invalid_request"),
    "empty candidate code (Score)": ("Score", lambda img: pb.ScoreRequest(reference_image=img, candidate_code=""),
                                     "invalid_request"),
    "oversized reference code (Score)": ("Score", lambda img: pb.ScoreRequest(
        reference_image=img, candidate_code="x = 1", reference_code="#" * (MAX_CODE_BYTES + 1)),
        "payload_too_large"),
    "nothing to compare with (Score)": ("Score", lambda img: pb.ScoreRequest(candidate_code="x = 1"),
                                        "empty_image"),
    "not an image (Score)": ("Score", lambda img: pb.ScoreRequest(reference_image=b"GIF89a-broken",
                                                                 candidate_code="x = 1"), "invalid_image"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_invalid_argument_with_a_stable_code(service, image, case):
    rpc, build, code = CASES[case]
    with service.channel() as channel, pytest.raises(grpc.RpcError) as caught:
        getattr(service.stub(channel), rpc)(build(image), timeout=30)
    error = caught.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    assert ("percept-error-code", code) in tuple(error.trailing_metadata()), error.trailing_metadata()
    assert "Traceback" not in error.details()
    assert service.serving()


def test_the_service_is_still_healthy_and_counted_every_fault(service, image):
    assert service.process.poll() is None and service.serving()
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(pb.ImageToCodeRequest(image=image), timeout=60)
    assert response.candidates[0].status == pb.CANDIDATE_STATUS_OK
    assert service.metric_value("percept_codeperception_errors_total",
                                'code="image_too_large",rpc="ImageToCode"') >= 1
    assert service.metric_value("percept_codeperception_errors_total", 'code="internal",rpc="ImageToCode"') == 0
