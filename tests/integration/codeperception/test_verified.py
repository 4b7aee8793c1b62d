"""The `verified` backend end to end, real processes: a small retrieval index built by the real builder
from the data engine's programs (rendered by the session's sandbox server), a real tritonserver serving
the tiny TokenVL as the generation model, and the code-perception service with both.

- A request for N candidates gets the k nearest programs first, then N model samples; every one is
  rendered and scored, each says where it came from, and the best is returned. The tiny TokenVL has
  random weights (plumbing, not a model), so its samples hold no code and a retrieved program wins.
- A Triton that stops answering fails the model's candidates (GENERATION_ERROR), not the request: the
  retrieved programs still answer.
"""
from __future__ import annotations

import io

import pytest

from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.retrieval.build import BuildPlan, build_index
from services.codeperception.sample_dataset import client_renderer
from services.codeperception.settings import RENDER_DPI
from services.evaluation.synth import corpus
from services.triton import generation as contract

from .harness import CodePerceptionServer

INDEXED = ("circuit", "data_table", "cube_net")
PLAN = BuildPlan(corpus_seed=0, families=INDEXED, per_family=4, dpi=50)
K = 2
MAX_TOKENS = 12


@pytest.fixture(scope="module")
def index_path(sandbox, tmp_path_factory):
    out = tmp_path_factory.mktemp("verified") / "index.npz"
    with sandbox.client() as client:
        build_index(out, PLAN, client_renderer(client, PLAN.dpi), workers=2, progress_stream=io.StringIO())
    return out


@pytest.fixture(scope="module")
def figure(sandbox) -> bytes:
    """A held-out engine figure (another corpus seed than the index's)."""
    program = corpus.program(1, INDEXED, INDEXED.index("data_table"))
    with sandbox.client() as client:
        return client_renderer(client, RENDER_DPI.default)(program.code)


def _service(sandbox, index_path, triton_url: str) -> CodePerceptionServer:
    return CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="verified",
                                PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=str(index_path),
                                PERCEPT_CODEPERCEPTION_RETRIEVAL_K=str(K),
                                PERCEPT_CODEPERCEPTION_TRITON_URL=triton_url,
                                # the session's Triton serves CodePercept-mini's fixture first: name TokenVL's
                                PERCEPT_CODEPERCEPTION_TRITON_MODEL=contract.TOKENVL_MODEL,
                                PERCEPT_CODEPERCEPTION_MAX_TOKENS=str(MAX_TOKENS),
                                # the candidates as the sources give them; the refinement verified does by
                                # default is test_best_of_n.py's
                                PERCEPT_CODEPERCEPTION_REFINE_RENDERS="0")


def _image_to_code(service, image: bytes, candidates: int) -> pb.ImageToCodeResponse:
    with service.channel() as channel:
        return service.stub(channel).ImageToCode(pb.ImageToCodeRequest(
            image=image, options=pb.ImageToCodeOptions(candidates=candidates, seed=3), request_id="verified"),
            timeout=120)


def test_retrieved_programs_and_model_samples_are_all_verified(sandbox, index_path, triton_server, figure):
    with _service(sandbox, index_path, triton_server.grpc_url) as service:
        response = _image_to_code(service, figure, candidates=2)
    assert response.backend == "verified"
    assert response.model == f"{contract.TOKENVL_MODEL}+retrieval:index"
    retrieved, sampled = response.candidates[:K], response.candidates[K:]
    assert len(sampled) == 2
    assert [c.origin for c in retrieved] == [pb.CANDIDATE_ORIGIN_RETRIEVAL] * K
    assert [c.neighbour.rank for c in retrieved] == list(range(K))
    assert all(c.status == pb.CANDIDATE_STATUS_OK for c in retrieved), [c.detail for c in retrieved]
    for candidate in sampled:  # the model's samples went through the generation model
        assert candidate.origin == pb.CANDIDATE_ORIGIN_MODEL
        assert candidate.status == pb.CANDIDATE_STATUS_NO_CODE, candidate.detail
        assert 0 < candidate.usage.completion_tokens <= MAX_TOKENS and candidate.usage.prompt_tokens > 256
    assert response.best_index < K and response.code == response.candidates[response.best_index].code
    assert response.fidelity.aggregate == max(c.fidelity.aggregate for c in retrieved)


def test_a_triton_that_stops_answering_fails_only_the_model_samples(sandbox, index_path, tokenfd_artifacts,
                                                                      triton_stub_site, figure):
    from services.triton.launcher import TritonServer

    triton = TritonServer(tokenfd_artifacts.repository, http_port=0, grpc_port=0, metrics_port=0)
    with triton, _service(sandbox, index_path, triton.grpc_url) as service:
        triton.stop()
        response = _image_to_code(service, figure, candidates=1)
        assert service.serving()
    assert [c.status for c in response.candidates] == [pb.CANDIDATE_STATUS_OK] * K + \
        [pb.CANDIDATE_STATUS_GENERATION_ERROR]
    assert "did not answer" in response.candidates[K].detail
    assert response.best_index < K and response.render_png.startswith(b"\x89PNG")
