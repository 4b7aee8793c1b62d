"""The `openai` backend over real gRPC, a real sandbox and a real HTTP server.

The HTTP server (fake_vlm.FakeVLM) stands in for a GPU VLM -- CodePercept served by
vLLM behind ms-swift -- which cannot run on these machines: it answers with scripted
chat completions and records what it received, so these tests check both the service's
handling of each kind of answer and that its requests follow the STEM2Code-Eval
generation protocol.
"""
from __future__ import annotations

import base64
import io
import time

import grpc
import pytest
from PIL import Image

from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.vlm_image import FACTOR, MAX_PIXELS

from .fake_vlm import Answer, python_block
from .harness import CodePerceptionServer

API_KEY = "sk-test-secret-4242"
MODEL = "CodePercept-8B-R1"
GOOD = "s01_sine_cosine"


@pytest.fixture(scope="module")
def service(sandbox, vlm):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="openai",
                              PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL=vlm.base_url,
                              PERCEPT_CODEPERCEPTION_OPENAI_MODEL=MODEL,
                              PERCEPT_CODEPERCEPTION_OPENAI_API_KEY=API_KEY,
                              PERCEPT_CODEPERCEPTION_LOG_LEVEL="debug") as server:
        yield server


def _image(sample_dataset, stem=GOOD) -> bytes:
    return (sample_dataset / "images" / f"{stem}.png").read_bytes()


def _program(stem=GOOD) -> str:
    from tests.sandbox.harness import corpus_program

    return corpus_program(f"{stem}.py")


def _call(service, image: bytes, timeout: float = 60, **options) -> pb.ImageToCodeResponse:
    with service.channel() as channel:
        return service.stub(channel).ImageToCode(
            pb.ImageToCodeRequest(image=image, options=pb.ImageToCodeOptions(**options)), timeout=timeout)


def test_a_good_answer_renders_and_scores_high_and_the_request_follows_the_protocol(service, vlm, sample_dataset):
    vlm.script(Answer(python_block(_program())))
    response = _call(service, _image(sample_dataset))
    best = response.candidates[0]
    assert best.status == pb.CANDIDATE_STATUS_OK, best.detail
    assert response.fidelity.aggregate >= 0.99
    assert (response.backend, response.model) == ("openai", MODEL)
    assert best.finish_reason == "stop" and best.usage.prompt_tokens == 321
    (received,) = vlm.received
    assert received.headers["authorization"] == f"Bearer {API_KEY}"
    body = received.body
    assert body["model"] == MODEL
    # the protocol's sampling values
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.7, 0.8, 20)
    assert (body["repetition_penalty"], body["presence_penalty"]) == (1.0, 1.5)
    assert body["max_tokens"] == 16384 and "seed" not in body
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    text, image = user["content"]
    assert text["type"] == "text" and "matplotlib" in text["text"]
    assert image["type"] == "image_url" and image["image_url"]["url"].startswith("data:image/jpeg;base64,")
    jpeg = Image.open(io.BytesIO(base64.b64decode(image["image_url"]["url"].split(",", 1)[1])))
    assert jpeg.format == "JPEG"
    assert jpeg.size == Image.open(io.BytesIO(_image(sample_dataset))).size  # below the cap: not resized


def test_a_large_image_is_resized_to_the_pixel_cap_and_request_options_override(service, vlm):
    vlm.script(Answer(python_block("import matplotlib.pyplot as plt\nplt.plot([0, 1])\n")))
    large = io.BytesIO()
    Image.new("RGB", (2400, 1200), "white").save(large, format="PNG")  # 2.88 M pixels
    response = _call(service, large.getvalue(), temperature=0.2, top_p=0.5, seed=7, max_tokens=512,
                     backend_options={"top_k": "5", "presence_penalty": "0"})
    assert response.candidates[0].status == pb.CANDIDATE_STATUS_OK
    body = vlm.received[0].body
    assert (body["temperature"], body["top_p"], body["top_k"], body["presence_penalty"]) == (0.2, 0.5, 5, 0.0)
    assert (body["seed"], body["max_tokens"]) == (7, 512)
    url = body["messages"][1]["content"][1]["image_url"]["url"]
    width, height = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size
    assert width * height <= MAX_PIXELS and width % FACTOR == 0 and height % FACTOR == 0
    assert abs(width / height - 2.0) < 0.05  # the aspect ratio is kept


def test_a_broken_program_is_a_candidate_status_not_an_rpc_error(service, vlm, sample_dataset):
    vlm.script(Answer(python_block("import matplotlib.pyplot as plt\nplt.plot([1, 2]\n")))  # a syntax error
    rejected = _call(service, _image(sample_dataset)).candidates[0]
    vlm.script(Answer(python_block("import matplotlib.pyplot as plt\nraise RuntimeError('boom')\n")))
    response = _call(service, _image(sample_dataset))
    raised = response.candidates[0]
    assert rejected.status == pb.CANDIDATE_STATUS_REJECTED
    assert raised.status == pb.CANDIDATE_STATUS_EXEC_ERROR and "boom" in raised.detail
    assert response.fidelity.aggregate == 0.0 and not response.render_png and not response.caption


def test_an_answer_without_code_is_no_code(service, vlm, sample_dataset):
    vlm.script(Answer("I cannot draw this, but it looks like a sine wave."))
    response = _call(service, _image(sample_dataset))
    assert response.candidates[0].status == pb.CANDIDATE_STATUS_NO_CODE
    assert response.code == ""


def test_only_the_code_after_think_counts(service, vlm, sample_dataset):
    draft = "import matplotlib.pyplot as plt\nplt.bar([1, 2], [3, 4])\n"
    vlm.script(Answer(f"<think>First idea:\n```python\n{draft}```\nNo, better:</think>\n" + python_block(_program())))
    response = _call(service, _image(sample_dataset))
    assert response.code.strip() == _program().strip()
    assert response.fidelity.aggregate >= 0.99


def test_an_http_error_of_the_backend_is_a_generation_error(service, vlm, sample_dataset):
    vlm.script(Answer("model overloaded", status=500))
    candidate = _call(service, _image(sample_dataset)).candidates[0]
    assert candidate.status == pb.CANDIDATE_STATUS_GENERATION_ERROR and "500" in candidate.detail


def test_a_slow_answer_past_the_deadline_is_deadline_exceeded_and_the_request_is_cancelled(service, vlm,
                                                                                             sample_dataset):
    vlm.script(Answer(python_block(_program()), delay_s=30))
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        _call(service, _image(sample_dataset), timeout=2.0, candidates=2, seed=1)
    elapsed = time.monotonic() - started
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 2.0 + 0.5, elapsed
    # Both in-flight backend requests were abandoned by the service, not left to run.
    deadline = time.monotonic() + 5
    while vlm.disconnects < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(vlm.received) == 2 and vlm.disconnects == 2
    assert service.serving()


def test_the_api_key_is_never_logged_nor_sent_to_the_sandbox(service, sandbox):
    assert API_KEY not in service.log_text()
    assert API_KEY not in sandbox.log_text()


def test_get_generator_names_the_backend_and_model_without_generating(service, vlm):
    vlm.script(Answer(python_block(_program())))  # resets what the fake received
    with service.channel() as channel:
        generator = service.stub(channel).GetGenerator(pb.GetGeneratorRequest(), timeout=10)
    assert (generator.backend, generator.model) == ("openai", MODEL)
    assert vlm.received == []
