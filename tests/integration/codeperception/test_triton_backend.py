"""The `triton` backend against a real tritonserver serving a model that implements the
generation contract (services/triton/generation.py).

A VLM that writes real plotting code cannot run here (the tiny TokenVL that `make models`
builds writes noise; tests/integration/tokenvl runs the service against it), so to check that
good code comes through the stream intact the model below is a scripted stand-in -- a decoupled python
model that streams a fixed answer in pieces and reports the prompt it received in its token
counts. Its config is built from the contract by the repository builder (apply_contract),
so this also proves that the contract's config loads in Triton and passes the service's
start-up check; the service, Triton, the stream and the sandbox are all real.
"""
from __future__ import annotations

import pytest
from tritonclient.grpc import model_config_pb2 as mc

from services.codeperception.prompt import DEFAULT_PROMPT
from services.codeperception.protos import codeperception_pb2 as pb
from services.triton import generation
from services.triton.repository import FamilyEntries, ModelEntry, apply_contract, build_repository, set_parameters
from tests.sandbox.harness import corpus_program

from .harness import CodePerceptionServer

MODEL = "scripted_generate"
PIECES = 4
ANSWER = f"<think>plan</think>Here you are:\n```python\n{corpus_program('s01_sine_cosine.py')}```\n"

MODEL_SOURCE = b'''
import json
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    """Streams the configured answer in PIECES deltas; PROMPT_TOKENS = bytes of the prompt it got."""

    def initialize(self, args):
        params = json.loads(args["model_config"])["parameters"]
        self.answer = params["answer"]["string_value"]
        self.pieces = int(params["pieces"]["string_value"])

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            prompt = pb_utils.get_input_tensor_by_name(request, "PROMPT").as_numpy().reshape(-1)[0]
            images = pb_utils.get_input_tensor_by_name(request, "IMAGES")
            jpeg = images is not None and images.as_numpy().reshape(-1)[0][:2] == b"\\xff\\xd8"
            step = -(-len(self.answer) // self.pieces)
            chunks = [self.answer[i:i + step] for i in range(0, len(self.answer), step)]
            for number, chunk in enumerate(chunks, start=1):
                last = number == len(chunks)
                finish = ("stop" if jpeg else "error") if last else ""
                outputs = [
                    pb_utils.Tensor("TEXT_DELTA", np.array([chunk.encode()], dtype=object)),
                    pb_utils.Tensor("FINISH_REASON", np.array([finish.encode()], dtype=object)),
                    pb_utils.Tensor("PROMPT_TOKENS", np.array([len(prompt)], dtype=np.int32)),
                    pb_utils.Tensor("COMPLETION_TOKENS", np.array([number], dtype=np.int32)),
                ]
                sender.send(pb_utils.InferenceResponse(output_tensors=outputs),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if last else 0)
        return None
'''


@pytest.fixture(scope="module")
def generation_triton(tmp_path_factory, triton_stub_site):
    from services.triton.launcher import TritonServer

    config = apply_contract(mc.ModelConfig(name=MODEL, backend="python", max_batch_size=0), generation.GENERATION)
    config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU, count=1))
    set_parameters(config, {"answer": ANSWER, "pieces": PIECES})
    repository = build_repository(tmp_path_factory.mktemp("generation") / "repository", "cpu", [
        FamilyEntries("scripted-generation", [ModelEntry(config, {"1/model.py": MODEL_SOURCE})])])
    with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server


@pytest.fixture(scope="module")
def service(sandbox, generation_triton):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="triton",
                              PERCEPT_CODEPERCEPTION_TRITON_URL=generation_triton.grpc_url) as server:
        yield server


def test_the_streamed_answer_becomes_a_rendered_scored_candidate(service, sample_dataset):
    image = (sample_dataset / "images" / "s01_sine_cosine.png").read_bytes()
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(
            pb.ImageToCodeRequest(image=image, options=pb.ImageToCodeOptions(candidates=2, seed=3, temperature=0.1)),
            timeout=120)
    assert (response.backend, response.model) == ("triton", MODEL)  # found by the contract, not by name
    for candidate in response.candidates:
        assert candidate.status == pb.CANDIDATE_STATUS_OK, candidate.detail
        assert candidate.finish_reason == "stop"  # the model received the image as JPEG
        assert candidate.usage.prompt_tokens == len(DEFAULT_PROMPT.encode())
        assert candidate.usage.completion_tokens == PIECES
    assert response.code.strip() == corpus_program("s01_sine_cosine.py").strip()
    assert response.fidelity.aggregate >= 0.99
