"""Between the STEM routes' REST models (gateway/stem_schemas.py) and the code-perception
gRPC messages: requests out, responses and progress events back."""
from __future__ import annotations

import base64

from services.codeperception.protos import codeperception_pb2 as pb
from services.codeperception.protos import sandbox_pb2
from services.codeperception.render_trace import parse_trace

from .stem_schemas import (
    CandidateOrigin,
    CandidateOut,
    CandidateStatus,
    ExecError,
    Fidelity,
    FidelityMode,
    ImageFormat,
    ImageToCodeOptions,
    ImageToCodeResponse,
    Neighbour,
    OutputTail,
    ProgressEvent,
    ProgressStage,
    RenderedImage,
    RenderFields,
    RenderResponse,
    RenderStatus,
    RenderUsage,
    ScoreOptions,
    ScoreResponse,
    StemTimings,
    TokenUsage,
)


def _b64(data: bytes) -> str | None:
    return base64.b64encode(data).decode() if data else None


def _enum_name(proto_enum, number: int, prefix: str) -> str:
    return proto_enum.Name(number)[len(prefix):].lower()


def _candidate_status(number: int):
    if number == 0:
        return None
    return CandidateStatus(_enum_name(pb.CandidateStatus, number, "CANDIDATE_STATUS_"))


# --- requests ---------------------------------------------------------------------------

def backend_options(options: ImageToCodeOptions) -> dict[str, str]:
    """The set options as the proto's strings (the service parses each by the backend's type; a float
    keeps its full precision through repr)."""
    return {key: repr(value) if isinstance(value, float) else str(value)
            for key, value in options.backend_options.model_dump(exclude_none=True).items()}


def image_to_code_request(image: bytes, options: ImageToCodeOptions, request_id: str) -> pb.ImageToCodeRequest:
    proto_options = pb.ImageToCodeOptions(
        candidates=options.candidates, max_tokens=options.max_tokens or 0, dpi=options.dpi or 0,
        render_timeout_seconds=options.render_timeout_s or 0.0, backend_options=backend_options(options))
    # proto3 optionals: unset means the default
    for name in ("temperature", "top_p", "seed", "greedy_first", "refine_renders"):
        value = getattr(options, name)
        if value is not None:
            setattr(proto_options, name, value)
    return pb.ImageToCodeRequest(image=image, options=proto_options, request_id=request_id)


def render_request(options: RenderFields, request_id: str) -> sandbox_pb2.RenderRequest:
    image_format = sandbox_pb2.IMAGE_FORMAT_SVG if options.format is ImageFormat.svg else sandbox_pb2.IMAGE_FORMAT_PNG
    return sandbox_pb2.RenderRequest(code=options.code, request_id=request_id, options=sandbox_pb2.RenderOptions(
        dpi=options.dpi or 0, format=image_format, timeout_seconds=options.timeout_s or 0.0,
        omit_trace=not options.trace))


def score_request(reference_image: bytes, options: ScoreOptions, request_id: str) -> pb.ScoreRequest:
    return pb.ScoreRequest(reference_image=reference_image, reference_code=options.reference_code or "",
                           candidate_code=options.candidate_code, dpi=options.dpi or 0,
                           render_timeout_seconds=options.render_timeout_s or 0.0, request_id=request_id)


# --- responses --------------------------------------------------------------------------

def fidelity(message: pb.Fidelity) -> Fidelity:
    metrics = {name: getattr(message, name) if message.HasField(name) else None
               for name in ("ssim", "edge", "text_f1", "layout_f1", "type_f1", "color_f1")}
    mode = FidelityMode(_enum_name(pb.FidelityMode, message.mode, "FIDELITY_MODE_")) if message.mode else \
        FidelityMode.image_only
    return Fidelity(aggregate=message.aggregate, mode=mode, computed=list(message.computed), **metrics)


def timings(message: pb.Timings) -> StemTimings:
    return StemTimings(generation_s=message.generation_seconds, render_s=message.render_seconds,
                       score_s=message.score_seconds)


def candidate(message: pb.Candidate) -> CandidateOut:
    return CandidateOut(
        index=message.index, status=_candidate_status(message.status) or CandidateStatus.generation_error,
        code=message.code, detail=message.detail,
        fidelity=fidelity(message.fidelity) if message.HasField("fidelity") else None,
        timings=timings(message.timings), finish_reason=message.finish_reason,
        usage=TokenUsage(prompt_tokens=message.usage.prompt_tokens,
                         completion_tokens=message.usage.completion_tokens) if message.HasField("usage") else None,
        origin=CandidateOrigin(_enum_name(pb.CandidateOrigin, message.origin, "CANDIDATE_ORIGIN_"))
        if message.origin else None,
        neighbour=Neighbour(family=message.neighbour.family, seed=message.neighbour.seed, rank=message.neighbour.rank,
                            distance=message.neighbour.distance) if message.HasField("neighbour") else None,
        refined_from=message.refined_from if message.HasField("refined_from") else None)


def image_to_code_response(message: pb.ImageToCodeResponse, request_id: str) -> ImageToCodeResponse:
    return ImageToCodeResponse(
        request_id=request_id, code=message.code, render_png_base64=_b64(message.render_png),
        fidelity=fidelity(message.fidelity) if message.HasField("fidelity") else None, caption=message.caption,
        best_index=message.best_index, candidates=[candidate(c) for c in message.candidates],
        backend=message.backend, model=message.model, total_s=message.total_seconds)


def progress_event(message: pb.Progress) -> ProgressEvent:
    return ProgressEvent(stage=ProgressStage(_enum_name(pb.ProgressStage, message.stage, "PROGRESS_STAGE_"))
                         if message.stage else ProgressStage.generated,
                         completed=message.completed, total=message.total, candidate_index=message.candidate_index,
                         candidate_status=_candidate_status(message.candidate_status))


def render_response(message: sandbox_pb2.RenderResponse, request_id: str) -> RenderResponse:
    images = [RenderedImage(index=f.index, format=ImageFormat.svg if f.format == sandbox_pb2.IMAGE_FORMAT_SVG
                            else ImageFormat.png, width=f.width_px, height=f.height_px,
                            data_base64=base64.b64encode(f.data).decode()) for f in message.figures]
    status = RenderStatus(_enum_name(sandbox_pb2.RenderStatus, message.status, "RENDER_STATUS_")) \
        if message.status else RenderStatus.exec_error
    return RenderResponse(
        request_id=request_id, status=status, detail=message.detail, images=images,
        trace=parse_trace(message.trace_json),
        stdout=OutputTail(text=message.stdout.text, total_bytes=message.stdout.total_bytes),
        stderr=OutputTail(text=message.stderr.text, total_bytes=message.stderr.total_bytes),
        error=ExecError(type=message.error.type, message=message.error.message) if message.HasField("error")
        and message.error.type else None,
        usage=RenderUsage(wall_s=message.usage.wall_seconds, cpu_s=message.usage.cpu_seconds,
                          peak_memory_bytes=message.usage.peak_memory_bytes))


def score_response(message: pb.ScoreResponse, request_id: str) -> ScoreResponse:
    return ScoreResponse(
        request_id=request_id, fidelity=fidelity(message.fidelity),
        candidate_status=_candidate_status(message.candidate_status) or CandidateStatus.exec_error,
        candidate_detail=message.candidate_detail, candidate_render_png_base64=_b64(message.candidate_render_png),
        reference_status=_candidate_status(message.reference_status), timings=timings(message.timings))
