"""The STEM routes' translation between REST models and the code-perception messages, and the
event-stream format (no server: pure functions)."""
from __future__ import annotations

import asyncio
import base64
import json

from gateway import sse, stem_convert
from gateway.stem_schemas import CandidateStatus, ImageToCodeOptions, RenderFields, RenderStatus, ScoreOptions
from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.protos import sandbox_pb2
from services.common.errors import ErrorCode, PerceptError


def test_status_enums_follow_the_contract():
    """Built from the proto enums: every non-zero value, lower-cased without its prefix."""
    assert {s.value for s in CandidateStatus} == {
        pb.CandidateStatus.Name(n)[len("CANDIDATE_STATUS_"):].lower() for n in pb.CandidateStatus.values() if n}
    assert "ok" in {s.value for s in RenderStatus} and "unspecified" not in {s.value for s in RenderStatus}


def test_unset_options_stay_unset_in_the_request():
    request = stem_convert.image_to_code_request(b"img", ImageToCodeOptions(), "rid")
    assert request.options.candidates == 1 and request.request_id == "rid"
    for name in ("temperature", "top_p", "seed", "greedy_first", "refine_renders"):
        assert not request.options.HasField(name)  # the defaults apply
    chosen = stem_convert.image_to_code_request(
        b"img", ImageToCodeOptions(candidates=4, temperature=0.0, seed=7, dpi=150, greedy_first=False,
                                    refine_renders=0, backend_options={"top_k": 5, "presence_penalty": 0.1}), "rid")
    assert chosen.options.HasField("greedy_first") and chosen.options.greedy_first is False
    assert chosen.options.HasField("refine_renders") and chosen.options.refine_renders == 0   # 0: off, not unset
    assert chosen.options.HasField("temperature") and chosen.options.temperature == 0.0
    assert chosen.options.seed == 7 and chosen.options.dpi == 150 and dict(chosen.options.backend_options) == {
        "top_k": "5", "presence_penalty": "0.1"}


def test_render_and_score_requests():
    render = stem_convert.render_request(RenderFields(code="x", format="svg", trace=False, timeout_s=2), "r")
    assert render.options.format == sandbox_pb2.IMAGE_FORMAT_SVG and render.options.omit_trace
    assert render.options.timeout_seconds == 2
    score = stem_convert.score_request(b"png", ScoreOptions(candidate_code="a"), "r")
    assert score.reference_code == "" and score.candidate_code == "a"


def test_fidelity_reports_only_computed_metrics():
    message = pb.Fidelity(aggregate=0.9, mode=pb.FIDELITY_MODE_IMAGE_ONLY, computed=["ssim", "edge"], ssim=0.8,
                          edge=1.0)
    fidelity = stem_convert.fidelity(message)
    assert fidelity.mode.value == "image_only" and fidelity.computed == ["ssim", "edge"]
    assert fidelity.ssim == 0.8 and fidelity.text_f1 is None  # not computed: null, not 0


def test_image_to_code_response():
    message = pb.ImageToCodeResponse(
        best_index=1, code="plt.plot()", render_png=b"\x89PNG", caption="a line",
        fidelity=pb.Fidelity(aggregate=1.0, computed=["ssim"], ssim=1.0), backend="reference", model="m",
        candidates=[pb.Candidate(index=0, status=pb.CANDIDATE_STATUS_NO_CODE, detail="no code"),
                    pb.Candidate(index=1, status=pb.CANDIDATE_STATUS_OK, code="plt.plot()",
                                 fidelity=pb.Fidelity(aggregate=1.0), timings=pb.Timings(render_seconds=0.1),
                                 usage=pb.TokenUsage(prompt_tokens=3, completion_tokens=4))])
    response = stem_convert.image_to_code_response(message, "rid")
    assert base64.b64decode(response.render_png_base64) == b"\x89PNG"
    assert [c.status.value for c in response.candidates] == ["no_code", "ok"]
    assert response.candidates[0].fidelity is None and response.candidates[1].usage.completion_tokens == 4
    assert response.candidates[1].timings.render_s == 0.1
    empty = stem_convert.image_to_code_response(pb.ImageToCodeResponse(), "rid")
    assert empty.render_png_base64 is None and empty.fidelity is None


def test_render_response_parses_the_trace():
    message = sandbox_pb2.RenderResponse(
        status=sandbox_pb2.RENDER_STATUS_OK, trace_json='{"version": 1, "figures": []}',
        figures=[sandbox_pb2.Figure(index=0, format=sandbox_pb2.IMAGE_FORMAT_PNG, data=b"abc", width_px=3,
                                    height_px=2)],
        stdout=sandbox_pb2.OutputTail(text="hi", total_bytes=2), usage=sandbox_pb2.Usage(wall_seconds=0.1))
    response = stem_convert.render_response(message, "rid")
    assert response.status.value == "ok" and response.trace == {"version": 1, "figures": []}
    assert response.images[0].width == 3 and base64.b64decode(response.images[0].data_base64) == b"abc"
    assert response.error is None and response.stdout.text == "hi"
    failed = stem_convert.render_response(sandbox_pb2.RenderResponse(
        status=sandbox_pb2.RENDER_STATUS_EXEC_ERROR, error=sandbox_pb2.ExecError(type="ValueError", message="m")),
        "rid")
    assert failed.status.value == "exec_error" and failed.error.type == "ValueError" and failed.trace is None


def test_score_response_without_reference_code():
    response = stem_convert.score_response(pb.ScoreResponse(
        fidelity=pb.Fidelity(aggregate=0.5), candidate_status=pb.CANDIDATE_STATUS_OK), "rid")
    assert response.reference_status is None and response.candidate_status.value == "ok"


def _parse(chunk: bytes) -> tuple[str, dict]:
    lines = chunk.decode().strip().split("\n")
    assert lines[0].startswith("event: ") and lines[1].startswith("data: ") and len(lines) == 2
    return lines[0][len("event: "):], json.loads(lines[1][len("data: "):])


def test_progress_event_format():
    event = stem_convert.progress_event(pb.Progress(stage=pb.PROGRESS_STAGE_RENDERED, completed=1, total=2,
                                                    candidate_index=0, candidate_status=pb.CANDIDATE_STATUS_OK))
    kind, data = _parse(sse.model_event("progress", event))
    assert kind == "progress" and data == {"type": "progress", "stage": "rendered", "completed": 1, "total": 2,
                                           "candidate_index": 0, "candidate_status": "ok"}


def test_relay_ends_with_a_typed_error_event_and_always_closes():
    closed = []

    async def failing():
        yield sse.event("progress", {"n": 1})
        raise PerceptError(ErrorCode.RESOURCE_EXHAUSTED, "pool full", retry_after_s=0.5)

    async def close():
        closed.append(True)

    async def collect():
        return [c async for c in sse.relay(sse.event("progress", {"n": 0}), failing(), "rid", close)]

    chunks = asyncio.run(collect())
    assert [_parse(c)[0] for c in chunks] == ["progress", "progress", "error"]
    error = _parse(chunks[-1])[1]["error"]
    assert error["code"] == "resource_exhausted" and error["retry_after_s"] == 0.5 and error["request_id"] == "rid"
    assert closed == [True]


def test_a_stream_without_its_result_is_an_upstream_error():
    from gateway.routes.stem import _ending_with_a_result

    async def service(events):
        for event in events:
            yield event

    async def collect(events):
        return [e async for e in _ending_with_a_result(service(events))]

    progress = pb.ImageToCodeEvent(progress=pb.Progress(stage=pb.PROGRESS_STAGE_GENERATED))
    result = pb.ImageToCodeEvent(result=pb.ImageToCodeResponse(code="x"))
    assert len(asyncio.run(collect([progress, result]))) == 2
    for cut_short in ([progress], []):
        try:
            asyncio.run(collect(cut_short))
        except PerceptError as error:
            assert error.code is ErrorCode.UPSTREAM_ERROR and error.http_status == 502
        else:
            raise AssertionError("a stream without a result passed")


def test_candidates_say_where_their_program_came_from():
    message = pb.ImageToCodeResponse(candidates=[
        pb.Candidate(index=0, status=pb.CANDIDATE_STATUS_OK, origin=pb.CANDIDATE_ORIGIN_RETRIEVAL,
                     neighbour=pb.Neighbour(family="circuit", seed=2**64 - 1, rank=0, distance=0.25)),
        pb.Candidate(index=1, status=pb.CANDIDATE_STATUS_OK, origin=pb.CANDIDATE_ORIGIN_MODEL),
        pb.Candidate(index=2, status=pb.CANDIDATE_STATUS_GENERATION_ERROR),
        pb.Candidate(index=3, status=pb.CANDIDATE_STATUS_OK, origin=pb.CANDIDATE_ORIGIN_REFINED, refined_from=0)])
    retrieved, written, failed, refined = stem_convert.image_to_code_response(message, "rid").candidates
    assert retrieved.origin.value == "retrieval"
    assert retrieved.neighbour.model_dump() == {"family": "circuit", "seed": 2**64 - 1, "rank": 0, "distance": 0.25}
    assert written.origin.value == "model" and written.neighbour is None
    assert failed.origin is None and failed.neighbour is None  # no program came back
    assert refined.origin.value == "refined" and refined.refined_from == 0 and refined.neighbour is None
    assert retrieved.refined_from is None and written.refined_from is None


def test_the_openapi_document_states_the_origins_the_contract_has():
    from fastapi.testclient import TestClient

    from gateway.app import create_app
    from gateway.settings import GatewaySettings

    with TestClient(create_app(GatewaySettings.from_env())) as http:
        schemas = http.get("/openapi.json").json()["components"]["schemas"]
    origin, _null = schemas["CandidateOut"]["properties"]["origin"]["anyOf"]
    assert schemas[origin["$ref"].rsplit("/", 1)[1]]["enum"] == ["model", "retrieval", "reference", "refined"]
    assert set(schemas["Neighbour"]["properties"]) == {"family", "seed", "rank", "distance"}
    assert schemas["Neighbour"]["properties"]["seed"]["type"] == "integer"
