"""What every generation backend offers the pipeline, and what it returns."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Protocol

from PIL import Image

from services.common.errors import ErrorCode, PerceptError
from services.common.images import decode_source, to_rgb

from .registry import BACKENDS


@dataclass(frozen=True)
class InputImage:
    """The request's image, decoded once with the platform's limits: its bytes, its RGB pixels
    (what a model sees) and the decoded source (for the metrics' view on white)."""
    data: bytes
    image: Image.Image
    source: Image.Image

    @classmethod
    def decode(cls, data: bytes, *, max_pixels: int | None = None) -> "InputImage":
        """Raises services.common.errors.PerceptError (a client fault) for a bad image."""
        source = decode_source(data, max_pixels=max_pixels)
        return cls(data=data, image=to_rgb(source), source=source)

    def on_white(self) -> Image.Image:
        """The pixels with any transparency composited over white, as the fidelity metrics compare them."""
        return to_rgb(self.source, on_white=True)


@dataclass(frozen=True)
class GenerationOptions:
    """One request's decoding options; None means the backend's default."""
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # parsed backend_options
    candidate: int = 0  # which candidate of the request these options are for
    greedy_first: bool = False  # the request's first model candidate decodes greedily

    def for_candidate(self, index: int) -> "GenerationOptions":
        """Candidate i samples with seed + i, so N seeded candidates differ and are reproducible."""
        return replace(self, candidate=index, seed=None if self.seed is None else self.seed + index)

    @staticmethod
    def greedy_first_for(asked: bool | None, candidates: int) -> bool:
        """Whether a request's best of N is greedy-first: as asked, else for any best of N (candidates > 1)."""
        return candidates > 1 if asked is None else asked

    def sampling_temperature(self, default: float) -> float:
        """This candidate's temperature: 0 for candidate 0 of a greedy-first best of N, else the
        request's, else the backend's default."""
        if self.greedy_first and self.candidate == 0:
            return 0.0
        return default if self.temperature is None else self.temperature


# Where a candidate's program came from (the response's `origin`).
ORIGIN_MODEL = "model"          # a generation model wrote it
ORIGIN_RETRIEVAL = "retrieval"  # the program of a data-engine figure near the input (see Neighbour)
ORIGIN_REFERENCE = "reference"  # the reference dataset's ground truth for this very image
ORIGIN_REFINED = "refined"      # another candidate's program with numbers read back from the image


@dataclass(frozen=True)
class Neighbour:
    """A retrieved candidate's source: the data-engine program whose rendered figure is near the input."""
    family: str
    seed: int        # the engine's sample seed: the family's program for it is the candidate's code
    rank: int        # 0 = the nearest
    distance: float  # between the two images' descriptors (services/codeperception/retrieval/index.py)


@dataclass(frozen=True)
class Generation:
    """One candidate's raw answer as the backend gave it."""
    text: str
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    origin: str = ORIGIN_MODEL
    neighbour: Neighbour | None = None  # with ORIGIN_RETRIEVAL


class GenerationFailed(Exception):
    """The backend answered, but with an error for this one candidate (its status: GENERATION_ERROR)."""


class BackendUnavailable(RuntimeError):
    """The configured backend cannot serve (found at start-up): the service does not start."""


class Backend(Protocol):
    """A backend may also define `candidate_count(requested: int) -> int`: how many candidates a request
    that asks for `requested` gets (see candidate_count below); without it, what was asked."""
    name: str
    model: str
    max_concurrency: int   # candidates of one request generated at the same time

    async def start(self) -> None:
        """Check the backend can serve; raise BackendUnavailable with a clear message if not."""

    def parse_options(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """backend_options of a request; an unknown key or a bad value is INVALID_ARGUMENT."""

    def prepare(self, image: InputImage) -> Any:
        """Per-request work shared by its candidates (e.g. the JPEG data URI); may raise PerceptError."""

    async def generate(self, prepared: Any, options: GenerationOptions, timeout_s: float) -> Generation:
        """One candidate (`options.candidate` says which). Raises GenerationFailed for a per-candidate
        error, PerceptError for a fault of the whole call (backend unreachable, deadline)."""

    async def close(self) -> None: ...


def candidate_count(backend: Backend, requested: int) -> int:
    """The candidates a request gets: what it asked for, unless the backend proposes its own number per image
    (`retrieval` renders its k nearest programs even for a request asking for one)."""
    count = getattr(backend, "candidate_count", None)
    return requested if count is None else count(requested)


# The backend_options each backend takes, and their types: one table, so that the gateway's
# OpenAPI document lists exactly these keys. A request may carry any of them whichever backend
# serves it: a key of another backend is ignored, so one request works against every deployment.
BACKEND_OPTIONS: dict[str, Mapping[str, type]] = {entry.name: entry.options for entry in BACKENDS}
KNOWN_OPTIONS = {key for options in BACKEND_OPTIONS.values() for key in options}


def parse_typed_options(raw: Mapping[str, str], known: Mapping[str, type]) -> dict[str, Any]:
    """backend_options by a {key: type} table; a key no backend takes, or a value of the wrong type,
    is invalid_request; a key that only another backend takes is ignored."""
    parsed = {}
    for key, value in raw.items():
        kind = known.get(key)
        if kind is None:
            if key in KNOWN_OPTIONS:
                continue
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"unknown backend option {key!r} (backends accept: "
                               f"{', '.join(sorted(KNOWN_OPTIONS))})", details={"option": key})
        try:
            parsed[key] = kind(value)
        except ValueError:
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"backend option {key}={value!r} is not a "
                               f"{kind.__name__}", details={"option": key}) from None
    return parsed
