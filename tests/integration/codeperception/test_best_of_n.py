"""Render-verified best-of-N over real gRPC and a real sandbox, and the progress stream.

The candidates come from a scripted OpenAI-compatible HTTP server (fake_vlm.FakeVLM),
standing in for a GPU VLM that cannot run here: candidate i of a seeded request is
answered by the script entry for seed + i, so each test knows every candidate's quality
(the right program, a degraded one, a broken one, no code) and which must win.
"""
from __future__ import annotations

import grpc
import pytest

from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.settings import TEMPERATURE
from tests.sandbox.harness import corpus_program

from .fake_vlm import Answer, python_block
from .harness import CodePerceptionServer

RIGHT = corpus_program("s01_sine_cosine.py")
# The same figure with the cosine curve missing and another title: renders, scores lower.
DEGRADED = RIGHT.replace('plt.plot(x, np.cos(x), "--", label="cos x", color="tab:red")\n', "") \
                .replace("Trigonometric functions", "Sine")
BROKEN = "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nraise ValueError('half-drawn')\n"
NOTHING = "x = 1 + 1\n"


@pytest.fixture(scope="module")
def service(sandbox, vlm):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="openai",
                              PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL=vlm.base_url,
                              PERCEPT_CODEPERCEPTION_OPENAI_MODEL="scripted",
                              PERCEPT_MAX_CANDIDATES="4") as server:
        yield server


@pytest.fixture(scope="module")
def image(sample_dataset) -> bytes:
    return (sample_dataset / "images" / "s01_sine_cosine.png").read_bytes()


def _request(image: bytes, n: int) -> pb.ImageToCodeRequest:
    return pb.ImageToCodeRequest(image=image, options=pb.ImageToCodeOptions(candidates=n, seed=100),
                                 request_id="best-of-n")


def test_the_best_candidate_wins(service, vlm, image):
    vlm.script(seed100=Answer(python_block(DEGRADED)), seed101=Answer(python_block(BROKEN)),
               seed102=Answer(python_block(RIGHT)), seed103=Answer("no code"))
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(_request(image, 4), timeout=120)
    statuses = [c.status for c in response.candidates]
    assert statuses == [pb.CANDIDATE_STATUS_OK, pb.CANDIDATE_STATUS_EXEC_ERROR, pb.CANDIDATE_STATUS_OK,
                        pb.CANDIDATE_STATUS_NO_CODE]
    assert sorted(r.body["seed"] for r in vlm.received) == [100, 101, 102, 103]  # N requests, seed + i
    degraded, right = response.candidates[0].fidelity.aggregate, response.candidates[2].fidelity.aggregate
    assert right >= 0.99 and degraded < right
    assert response.best_index == 2 and response.code.strip() == RIGHT.strip()
    assert response.fidelity == response.candidates[2].fidelity
    assert "Trigonometric functions" in response.caption
    assert [c.index for c in response.candidates] == [0, 1, 2, 3]


def _temperatures_by_seed(vlm) -> dict[int, float]:
    return {r.body["seed"]: r.body["temperature"] for r in vlm.received}


def test_best_of_n_decodes_its_first_candidate_greedily_unless_asked_not_to(service, vlm, image):
    default = TEMPERATURE.default  # the backend's own, unchanged
    vlm.script()
    with service.channel() as channel:
        service.stub(channel).ImageToCode(_request(image, 3), timeout=120)
        assert _temperatures_by_seed(vlm) == {100: 0.0, 101: default, 102: default}
        vlm.script()
        sampled = _request(image, 3)
        sampled.options.greedy_first = False
        service.stub(channel).ImageToCode(sampled, timeout=120)
        assert _temperatures_by_seed(vlm) == {100: default, 101: default, 102: default}
        vlm.script()
        service.stub(channel).ImageToCode(_request(image, 1), timeout=120)  # one candidate: a sample
        assert _temperatures_by_seed(vlm) == {100: default}


def test_a_candidate_that_does_not_render_never_wins(service, vlm, image):
    # Candidate 0 fails every way but its fidelity would be 0 anyway; the degraded one renders and must win
    # even though it is not first.
    vlm.script(seed100=Answer(python_block(BROKEN)), seed101=Answer(python_block(NOTHING)),
               seed102=Answer(python_block(DEGRADED)))
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(_request(image, 3), timeout=120)
    assert [c.status for c in response.candidates] == [pb.CANDIDATE_STATUS_EXEC_ERROR, pb.CANDIDATE_STATUS_NO_FIGURE,
                                                       pb.CANDIDATE_STATUS_OK]
    assert response.best_index == 2 and response.render_png


def test_ties_go_to_the_lowest_index(service, vlm, image):
    vlm.script(seed100=Answer(python_block(DEGRADED)), seed101=Answer(python_block(RIGHT)),
               seed102=Answer(python_block(RIGHT)))
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(_request(image, 3), timeout=120)
    assert response.candidates[1].fidelity.aggregate == response.candidates[2].fidelity.aggregate
    assert response.best_index == 1


def test_when_nothing_renders_the_first_is_returned_with_zero_fidelity(service, vlm, image):
    vlm.script(Answer("no code at all"))
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(_request(image, 2), timeout=60)
    assert response.best_index == 0 and response.fidelity.aggregate == 0.0 and not response.render_png


def test_the_stream_reports_progress_in_order_then_the_result(service, vlm, image):
    vlm.script(seed100=Answer(python_block(DEGRADED)), seed101=Answer(python_block(RIGHT)),
               seed102=Answer(python_block(BROKEN)))
    with service.channel() as channel:
        events = list(service.stub(channel).ImageToCodeStream(_request(image, 3), timeout=120))
    *progress, last = events
    assert last.WhichOneof("event") == "result" and all(e.WhichOneof("event") == "progress" for e in progress)
    stages = [e.progress for e in progress]
    generated = [p for p in stages if p.stage == pb.PROGRESS_STAGE_GENERATED]
    rendered = [p for p in stages if p.stage == pb.PROGRESS_STAGE_RENDERED]
    assert [p.completed for p in generated] == [1, 2, 3] and [p.completed for p in rendered] == [1, 2, 3]
    assert all(p.total == 3 for p in generated + rendered)
    for index in range(3):  # each candidate is generated before it is rendered
        order = [i for i, p in enumerate(stages) if p.candidate_index == index and p.stage in
                 (pb.PROGRESS_STAGE_GENERATED, pb.PROGRESS_STAGE_RENDERED)]
        assert [stages[i].stage for i in order] == [pb.PROGRESS_STAGE_GENERATED, pb.PROGRESS_STAGE_RENDERED]
    assert [p.stage for p in stages[-2:]] == [pb.PROGRESS_STAGE_SCORED, pb.PROGRESS_STAGE_BEST_CHOSEN]
    assert stages[-2].completed == 2  # two rendered and were scored
    assert stages[-1].candidate_index == 1 == last.result.best_index
    statuses = {p.candidate_index: p.candidate_status for p in rendered}
    assert statuses == {0: pb.CANDIDATE_STATUS_OK, 1: pb.CANDIDATE_STATUS_OK, 2: pb.CANDIDATE_STATUS_EXEC_ERROR}
    with service.channel() as channel:
        unary = service.stub(channel).ImageToCode(_request(image, 3), timeout=120)
    assert unary.best_index == last.result.best_index and unary.code == last.result.code


def test_candidates_above_the_cap_are_invalid_argument(service, image):
    with service.channel() as channel, pytest.raises(grpc.RpcError) as caught:
        service.stub(channel).ImageToCode(_request(image, 5), timeout=30)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert ("percept-error-code", "invalid_request") in tuple(caught.value.trailing_metadata())


# --- refinement (services/codeperception/refinement.py) ---------------------------------------

# The right program with one number misread: the curves run over 3 pi instead of 2 pi.
DRIFTED = RIGHT.replace("np.linspace(0, 2 * np.pi, 400)", "np.linspace(0, 3 * np.pi, 400)")


def _refining(image: bytes, renders: int | None) -> pb.ImageToCodeRequest:
    request = _request(image, 1)
    if renders is not None:
        request.options.refine_renders = renders
    return request


def test_refinement_reads_a_misread_number_back_as_a_refined_candidate_that_wins(service, vlm, image):
    assert DRIFTED != RIGHT
    vlm.script(seed100=Answer(python_block(DRIFTED)))
    with service.channel() as channel:
        events = list(service.stub(channel).ImageToCodeStream(_refining(image, 32), timeout=120))
    *progress, last = events
    response = last.result
    drifted, refined = response.candidates
    assert refined.origin == pb.CANDIDATE_ORIGIN_REFINED and refined.HasField("refined_from")
    assert refined.refined_from == 0 and refined.index == 1 and refined.status == pb.CANDIDATE_STATUS_OK
    assert "np.linspace(0, 2 * np.pi, 400)" in refined.code and "3 -> 2" in refined.detail, refined.detail
    assert refined.fidelity.aggregate >= 0.99 > drifted.fidelity.aggregate
    assert response.best_index == 1 and response.code == refined.code and response.fidelity == refined.fidelity
    assert response.render_png and "Trigonometric functions" in response.caption
    stages = [e.progress for e in progress]
    tries = [p for p in stages if p.stage == pb.PROGRESS_STAGE_REFINED]
    assert tries and [p.completed for p in tries] == list(range(1, len(tries) + 1)) and len(tries) <= 32
    assert all(p.total == 32 and p.candidate_index == 1 for p in tries)
    order = [p.stage for p in stages if p.stage in (pb.PROGRESS_STAGE_SCORED, pb.PROGRESS_STAGE_REFINED,
                                                     pb.PROGRESS_STAGE_BEST_CHOSEN)]
    assert order == [pb.PROGRESS_STAGE_SCORED, *[pb.PROGRESS_STAGE_REFINED] * len(tries),
                     pb.PROGRESS_STAGE_BEST_CHOSEN]
    assert stages[-1].candidate_index == 1


# The right program drawn at another size: stretched to the input's when scored.
RESIZED = RIGHT.replace("figsize=(6.4, 4.8)", "figsize=(5, 5)")


def test_the_first_refining_render_sets_the_figure_to_the_inputs_size(service, vlm, image):
    assert RESIZED != RIGHT                      # the input: 640 x 480 pixels at the service's 100 dpi
    vlm.script(seed100=Answer(python_block(RESIZED)))
    with service.channel() as channel:
        response = service.stub(channel).ImageToCode(_refining(image, 1), timeout=120)
    resized, refined = response.candidates
    assert refined.origin == pb.CANDIDATE_ORIGIN_REFINED and response.best_index == 1
    assert "figsize=(6.4, 4.8)" in refined.code and "(1 renders)" in refined.detail, refined.detail
    assert "figsize=(5, 5) -> figsize=(6.4, 4.8)" in refined.detail
    assert refined.fidelity.aggregate >= 0.99 > resized.fidelity.aggregate


def test_no_refinement_unless_asked_or_configured(service, vlm, image):
    # This service's backend (`openai`) does not refine by default (backends/registry.py); 0 turns it off.
    for renders in (None, 0):
        vlm.script(seed100=Answer(python_block(DRIFTED)))
        with service.channel() as channel:
            response = service.stub(channel).ImageToCode(_refining(image, renders), timeout=120)
        assert len(response.candidates) == 1 and response.best_index == 0
        assert response.candidates[0].origin == pb.CANDIDATE_ORIGIN_MODEL


def test_refine_renders_above_the_cap_are_invalid_argument(service, image):
    with service.channel() as channel, pytest.raises(grpc.RpcError) as caught:
        service.stub(channel).ImageToCode(_refining(image, 65), timeout=30)   # PERCEPT_MAX_REFINE_RENDERS: 64
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert ("percept-error-code", "invalid_request") in tuple(caught.value.trailing_metadata())
