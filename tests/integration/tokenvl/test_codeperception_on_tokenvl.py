"""The code-perception service's `triton` backend end to end against the served `tokenvl`
model: real tritonserver (the session's, TokenFD + TokenVL), real service, real sandbox.

The tiny TokenVL has random weights, so its answer holds no code: the candidates come back
as NO_CODE, with the finish reason and token usage that the model streamed."""
from __future__ import annotations

import pytest

from services.codeperception.protos import codeperception_pb2 as pb
from services.triton import generation as contract
from tests.integration.codeperception.conftest import sandbox  # noqa: F401 - the session's sandbox-runner
from tests.integration.codeperception.harness import CodePerceptionServer

from .conftest import png

MAX_TOKENS = 12


@pytest.fixture(scope="module")
def service(sandbox, triton_server):  # noqa: F811
    # Named: the session's Triton also serves CodePercept-mini's models, which the service would prefer.
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="triton",
                              PERCEPT_CODEPERCEPTION_TRITON_URL=triton_server.grpc_url,
                              PERCEPT_CODEPERCEPTION_TRITON_MODEL=contract.TOKENVL_MODEL,
                              PERCEPT_CODEPERCEPTION_MAX_TOKENS=str(MAX_TOKENS)) as server:
        yield server


def test_image_to_code_streams_from_tokenvl(service):
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(
            pb.ImageToCodeRequest(image=png(320, 240, 11), options=pb.ImageToCodeOptions(candidates=2, seed=5)),
            timeout=120)
    assert (response.backend, response.model) == ("triton", contract.TOKENVL_MODEL)
    assert len(response.candidates) == 2
    for candidate in response.candidates:
        assert candidate.status == pb.CANDIDATE_STATUS_NO_CODE, candidate.detail
        assert candidate.finish_reason in ("length", "stop")
        assert 0 < candidate.usage.completion_tokens <= MAX_TOKENS
        assert candidate.usage.prompt_tokens > 256      # the image's visual tokens are in the prompt
