"""`retrieval`: the programs of the data-engine figures that look most like the input.

No model: an index (services/codeperception/retrieval/index.py, built by `make retrieval-index` from the
data engine's corpus) holds a small descriptor of every program's rendered figure and the program's text.
For an input image, candidate i is the program of its i-th nearest figure; the pipeline renders every
candidate in the sandbox, scores each render against the input and returns the best, as best-of-N does
for any backend. A request gets at least PERCEPT_CODEPERCEPTION_RETRIEVAL_K candidates (more when it asks
for more), so even a request for one candidate is verified against k. Any decodable image gets an answer:
there is always a nearest program, however poor its fidelity.
"""
from __future__ import annotations

import asyncio
from typing import Any, Mapping

from ..extraction import fenced
from ..retrieval.index import IndexUnusable, Match, RetrievalIndex
from ..settings import CodePerceptionSettings
from .base import (
    BACKEND_OPTIONS,
    ORIGIN_RETRIEVAL,
    BackendUnavailable,
    Generation,
    GenerationOptions,
    InputImage,
    Neighbour,
    parse_typed_options,
)

BUILD_HINT = "`make retrieval-index` builds it"


class RetrievalBackend:
    name = "retrieval"
    max_concurrency = 64  # nothing is generated: the candidates are looked up

    def __init__(self, settings: CodePerceptionSettings) -> None:
        self.settings = settings
        # An id as OpenAI's are (no spaces): it is the generator's id on /v1/models and each answer's `model`.
        self.model = f"retrieval:{settings.retrieval_index.stem}"
        self.index: RetrievalIndex | None = None

    async def start(self) -> None:
        s = self.settings
        if s.retrieval_k > s.max_candidates:
            raise BackendUnavailable(f"PERCEPT_CODEPERCEPTION_RETRIEVAL_K={s.retrieval_k} is above "
                                     f"PERCEPT_MAX_CANDIDATES={s.max_candidates}")
        try:
            self.index = await asyncio.to_thread(RetrievalIndex.load, s.retrieval_index)
        except FileNotFoundError:
            raise BackendUnavailable(f"the retrieval backend has no index at {s.retrieval_index} "
                                     f"(PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX; {BUILD_HINT})") from None
        except (OSError, IndexUnusable) as exc:
            raise BackendUnavailable(f"the retrieval index at {s.retrieval_index} cannot be used: {exc} "
                                     f"({BUILD_HINT})") from None
        if self.index.size == 0:
            raise BackendUnavailable(f"the retrieval index at {s.retrieval_index} holds no programs ({BUILD_HINT})")

    def candidate_count(self, requested: int) -> int:
        """The k nearest, or as many as were asked for; never more than the index holds."""
        return min(max(requested, self.settings.retrieval_k), self.index.size)

    def parse_options(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return parse_typed_options(raw, BACKEND_OPTIONS[self.name])

    def prepare(self, image: InputImage) -> list[Match]:
        """The neighbours any request may use, nearest first (at most PERCEPT_MAX_CANDIDATES)."""
        return self.index.nearest(image.on_white(), max(self.settings.max_candidates, self.settings.retrieval_k))

    async def generate(self, prepared: list[Match], options: GenerationOptions, timeout_s: float) -> Generation:
        match = prepared[min(options.candidate, len(prepared) - 1)]
        return Generation(text=fenced(match.code), finish_reason="stop", origin=ORIGIN_RETRIEVAL,
                          neighbour=Neighbour(family=match.family, seed=match.seed, rank=match.rank,
                                              distance=match.distance))

    async def close(self) -> None:
        return None
