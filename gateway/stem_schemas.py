"""Request and response models of the STEM routes (gateway/routes/stem.py).

Enumerations are built from the gRPC contract's enums (protos/percept/codeperception/v1),
so a status added there appears here without being written twice: CANDIDATE_STATUS_OK
becomes "ok", RENDER_STATUS_EXEC_ERROR becomes "exec_error".
"""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, create_model

from percept_sandbox import settings as sandbox_settings
from services.codeperception import settings as codeperception_settings
from services.codeperception.backends.base import BACKEND_OPTIONS
from services.codeperception.protos import codeperception_pb2, sandbox_pb2

from .schemas import BASE64, EXAMPLE_IMAGE_BASE64, MIN_TOP_P, JsonBody, not_null


def _enum_from_proto(name: str, descriptor, prefix: str) -> type[Enum]:
    members = {value.name[len(prefix):].lower(): value.name[len(prefix):].lower()
               for value in descriptor.values if value.number != 0}
    return Enum(name, members, type=str)  # type: ignore[return-value]


CandidateStatus = _enum_from_proto("CandidateStatus", codeperception_pb2.CandidateStatus.DESCRIPTOR,
                                   "CANDIDATE_STATUS_")
RenderStatus = _enum_from_proto("RenderStatus", sandbox_pb2.RenderStatus.DESCRIPTOR, "RENDER_STATUS_")
FidelityMode = _enum_from_proto("FidelityMode", codeperception_pb2.FidelityMode.DESCRIPTOR, "FIDELITY_MODE_")
ProgressStage = _enum_from_proto("ProgressStage", codeperception_pb2.ProgressStage.DESCRIPTOR, "PROGRESS_STAGE_")
CandidateOrigin = _enum_from_proto("CandidateOrigin", codeperception_pb2.CandidateOrigin.DESCRIPTOR,
                                   "CANDIDATE_ORIGIN_")


class ImageFormat(str, Enum):
    png = "png"
    svg = "svg"


# The downstream ceilings (their defaults), imported: the sandbox and the service own these numbers.
MAX_DPI = sandbox_settings.MAX_DPI.default
MAX_RENDER_TIMEOUT_S = sandbox_settings.MAX_TIMEOUT_S.default
MAX_TOKENS = codeperception_settings.MAX_TOKENS.default

_DPI = dict(ge=1, le=MAX_DPI, description="Resolution of the renders (default: the service's).")
_TIMEOUT = dict(gt=0, le=MAX_RENDER_TIMEOUT_S,
                description="Wall-clock limit of one render, in seconds (default: the service's).")
# A program has at least one non-blank character (a blank one is refused as empty downstream too).
_NOT_BLANK = r"\S"
_CODE = dict(min_length=1, pattern=_NOT_BLANK, description="A Python program that draws with matplotlib; at "
                                                         "most `PERCEPT_MAX_CODE_BYTES` UTF-8 bytes.")

EXAMPLE_PROGRAM = ("import matplotlib.pyplot as plt\nimport numpy as np\nx = np.linspace(0, 6.3, 100)\n"
                   "plt.plot(x, np.sin(x))\nplt.title('sine')\n")


# --- image-to-code ----------------------------------------------------------------------

def _backend_options_model() -> type[BaseModel]:
    """`backend_options`: every key some code-perception backend takes, typed, from the backends' one
    table. A key the configured backend does not take is ignored by the service, so a request is
    valid against every deployment; a key no backend takes is refused here (a schema error)."""
    users: dict[str, list[str]] = {}
    for backend, options in BACKEND_OPTIONS.items():
        for key in options:
            users.setdefault(key, []).append(backend)
    fields = {key: (kind, Field(None, json_schema_extra=not_null,
                                description=f"Used by the `{'`, `'.join(users[key])}` backend; ignored by others."))
              for backend, options in BACKEND_OPTIONS.items() for key, kind in options.items()}
    return create_model("BackendOptions", __base__=_StrictOptions, **fields)


class _StrictOptions(JsonBody):
    # Strict in a form too (it arrives there as JSON text, with JSON's types): "5" is not an integer.
    model_config = ConfigDict(extra="forbid", strict=True)


BackendOptions = _backend_options_model()


class ImageToCodeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(1, ge=1, description="Candidates to generate and render (best-of-N); at most "
                                                 "`PERCEPT_MAX_CANDIDATES`.")
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS,
                                   description="Most tokens one candidate may generate (default: the backend's).")
    temperature: float | None = Field(None, ge=0, le=2, description="Sampling temperature (default: the backend's).")
    top_p: float | None = Field(None, ge=MIN_TOP_P, le=1, description="Nucleus sampling (default: the backend's).")
    seed: int | None = Field(None, ge=-2**63, le=2**63 - 1,
                             description="Seed of candidate 0; candidate i uses seed + i (default: unseeded).")
    greedy_first: bool | None = Field(None, description="Best of N keeps the model's most likely program: the "
                                                        "first model candidate decodes greedily (temperature 0) "
                                                        "and the others sample (default: true when candidates "
                                                        "> 1; false samples every candidate).")
    refine_renders: int | None = Field(None, ge=0, description="Renders the service may spend refining the best "
                                                               "candidate: its numbers nudged one at a time, each "
                                                               "try rendered and scored against the image, a better "
                                                               "program returned as a `refined` candidate (default: "
                                                               "the backend's; 0 turns it off); at most "
                                                               "`PERCEPT_MAX_REFINE_RENDERS`.")
    dpi: int | None = Field(None, **_DPI)
    render_timeout_s: float | None = Field(None, **_TIMEOUT)
    backend_options: BackendOptions = Field(  # type: ignore[valid-type]
        default_factory=BackendOptions, description="Settings of the code-perception backend: each key names the "
                                                    "backends that use it; the configured backend ignores the "
                                                    "others' keys. In a multipart form: a JSON object as text.")
    stream: bool = Field(False, description="Send progress as server-sent events, then the result "
                                            "(see docs/api.md).")


class ImageToCodeJsonRequest(ImageToCodeOptions, JsonBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"image": EXAMPLE_IMAGE_BASE64, "candidates": 1}]})

    image: str = Field(json_schema_extra=BASE64, description="The STEM image (PNG, JPEG, WebP, BMP, GIF), "
                                                             "base64-encoded.")


class ImageToCodeMultipartRequest(ImageToCodeOptions):
    """The multipart form of an image-to-code request (documentation only: inputs.py reads the form)."""

    image: bytes = Field(description="The STEM image (PNG, JPEG, WebP, BMP, GIF).")


class Fidelity(BaseModel):
    """Deterministic fidelity of a render against the reference, each in [0, 1] (1 = identical);
    a metric that was not computed is null and absent from `computed`."""

    aggregate: float
    mode: FidelityMode  # type: ignore[valid-type]
    computed: list[str] = Field(description="Names of the metrics that were computed.")
    ssim: float | None = None
    edge: float | None = None
    text_f1: float | None = None
    layout_f1: float | None = None
    type_f1: float | None = None
    color_f1: float | None = None


class StemTimings(BaseModel):
    generation_s: float
    render_s: float
    score_s: float


class TokenUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class Neighbour(BaseModel):
    """A retrieved candidate's source: the data-engine program whose rendered figure looks like the input."""

    family: str = Field(description="The data engine's program family.")
    seed: int = Field(ge=0, description="The engine's sample seed the program was written from (64 bits).")
    rank: int = Field(ge=0, description="0 for the nearest figure, 1 for the next, ...")
    distance: float = Field(ge=0, description="Between the two images' descriptors; 0 for the same thumbnail "
                                              "and aspect ratio.")


class CandidateOut(BaseModel):
    index: int
    status: CandidateStatus  # type: ignore[valid-type]
    code: str = Field(description="The extracted program (empty with `no_code` or `generation_error`).")
    detail: str = Field(description="Why the status is what it is, for people.")
    fidelity: Fidelity | None = Field(None, description="Only for rendered candidates.")
    timings: StemTimings
    finish_reason: str = ""
    usage: TokenUsage | None = None
    origin: CandidateOrigin | None = Field(  # type: ignore[valid-type]
        None, description="Where the program came from: `model` (a generation model wrote it), `retrieval` (the "
                          "program of a data-engine figure near the input, see `neighbour`), `reference` (the "
                          "reference dataset's ground truth) or `refined` (another candidate's program with "
                          "numbers read back from the image, see `refined_from`); null when no program came back.")
    neighbour: Neighbour | None = Field(None, description="Only for `retrieval` candidates.")
    refined_from: int | None = Field(None, ge=0, description="Only for `refined` candidates: the index of the "
                                                             "candidate whose program was refined.")


class ImageToCodeResponse(BaseModel):
    request_id: str
    code: str = Field(description="The chosen program (may be empty when no candidate rendered).")
    render_png_base64: str | None = Field(None, description="The chosen program's first figure (PNG).")
    fidelity: Fidelity | None = None
    caption: str = Field(description="Facts the chosen program drew, from its execution trace (no LLM).")
    best_index: int
    candidates: list[CandidateOut]
    backend: str
    model: str
    total_s: float


class ProgressEvent(BaseModel):
    """The `data` of a `progress` server-sent event."""

    type: str = "progress"
    stage: ProgressStage  # type: ignore[valid-type]
    completed: int
    total: int
    candidate_index: int
    candidate_status: CandidateStatus | None = None  # type: ignore[valid-type]


# --- render -----------------------------------------------------------------------------

class RenderFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(**_CODE)
    dpi: int | None = Field(None, **_DPI)
    format: ImageFormat = ImageFormat.png
    timeout_s: float | None = Field(None, **_TIMEOUT)
    trace: bool = Field(True, description="Return the execution trace (costs about a millisecond).")


class RenderJsonRequest(RenderFields, JsonBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": EXAMPLE_PROGRAM}]})


class RenderMultipartRequest(RenderFields):
    """The multipart form of a render request; `code` may be a text field or a file."""


class RenderedImage(BaseModel):
    index: int
    format: ImageFormat
    width: int
    height: int
    data_base64: str


class OutputTail(BaseModel):
    text: str = Field(description="The last bytes written (UTF-8, invalid bytes replaced).")
    total_bytes: int


class ExecError(BaseModel):
    type: str
    message: str


class RenderUsage(BaseModel):
    wall_s: float
    cpu_s: float
    peak_memory_bytes: int


class RenderResponse(BaseModel):
    request_id: str
    status: RenderStatus  # type: ignore[valid-type]
    detail: str
    images: list[RenderedImage]
    trace: dict | None = Field(None, description="The execution trace (figures, axes, artists), parsed; "
                                                 "only with status `ok` and `trace` on.")
    stdout: OutputTail
    stderr: OutputTail
    error: ExecError | None = None
    usage: RenderUsage


# --- score ------------------------------------------------------------------------------

class ScoreOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate_code: str = Field(**_CODE)
    reference_code: str | None = Field(None, min_length=1, pattern=_NOT_BLANK,
                                       description="The program that drew the reference; enables the trace "
                                                   "metrics.")
    dpi: int | None = Field(None, **_DPI)
    render_timeout_s: float | None = Field(None, **_TIMEOUT)


class ScoreJsonRequest(ScoreOptions, JsonBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reference_image": EXAMPLE_IMAGE_BASE64, "candidate_code": EXAMPLE_PROGRAM}]})

    reference_image: str = Field(json_schema_extra=BASE64,
                                 description="The image to reproduce (PNG, JPEG, WebP, BMP, GIF), base64.")


class ScoreMultipartRequest(ScoreOptions):
    """The multipart form of a score request; the programs may be text fields or files."""

    reference_image: bytes = Field(description="The image to reproduce.")


class ScoreResponse(BaseModel):
    request_id: str
    fidelity: Fidelity
    candidate_status: CandidateStatus  # type: ignore[valid-type]
    candidate_detail: str
    candidate_render_png_base64: str | None = None
    reference_status: CandidateStatus | None = Field(  # type: ignore[valid-type]
        None, description="How the reference code's render went (null without reference code).")
    timings: StemTimings
