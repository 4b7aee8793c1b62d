"""`verified`: analysis by synthesis over two sources of candidates.

A request's candidates are the k nearest programs of the retrieval index (the `retrieval` backend) and
samples of the generation model Triton serves (the `triton` backend). The pipeline renders every one in
the sandbox, scores it against the input and returns the best, as best-of-N does for any backend, and
each candidate's `origin` says where it came from (`retrieval`, with its neighbour, or `model`).

A request asking for N candidates gets min(PERCEPT_CODEPERCEPTION_RETRIEVAL_K, index size) retrieved ones
first (candidates 0..k-1, nearest first), then N model samples (candidate i samples with seed + i; the
first of them decodes greedily when the request is greedy-first, see GenerationOptions), within
PERCEPT_MAX_CANDIDATES in all but always at least one model sample. So even a request for one candidate is
verified against k programs that render.

The model's faults stay with its candidates: a model that errs, or a Triton that stops answering, fails
those candidates (GENERATION_ERROR, with why), and the retrieved ones still answer. Start-up needs both: an
index that loads and a served model that implements the generation contract.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from services.common.errors import ErrorCode, PerceptError

from ..settings import CodePerceptionSettings
from .base import BACKEND_OPTIONS, Generation, GenerationFailed, GenerationOptions, InputImage, parse_typed_options
from .retrieval import RetrievalBackend
from .triton import TritonGenerationBackend

# Faults of the model's side that fail its candidates rather than the request.
_MODEL_FAULTS = (ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.UPSTREAM_TIMEOUT, ErrorCode.UPSTREAM_ERROR)


class VerifiedBackend:
    name = "verified"

    def __init__(self, settings: CodePerceptionSettings) -> None:
        self.settings = settings
        self.retrieval = RetrievalBackend(settings)
        self.generator = TritonGenerationBackend(settings)
        # Retrieved candidates are looked up, not generated: they never wait behind the model's samples.
        self.max_concurrency = settings.retrieval_k + self.generator.max_concurrency
        self.model = "verified"

    async def start(self) -> None:
        await self.retrieval.start()
        await self.generator.start()
        self.model = f"{self.generator.model}+{self.retrieval.model}"   # an id: no spaces (retrieval.py)

    def retrieved(self) -> int:
        """How many of a request's candidates are retrieved (the first ones)."""
        return min(self.settings.retrieval_k, self.retrieval.index.size)

    def candidate_count(self, requested: int) -> int:
        retrieved = self.retrieved()
        return min(retrieved + requested, max(self.settings.max_candidates, retrieved + 1))

    def parse_options(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return parse_typed_options(raw, BACKEND_OPTIONS[self.name])

    def prepare(self, image: InputImage) -> tuple[Any, Any]:
        return self.retrieval.prepare(image), self.generator.prepare(image)

    async def generate(self, prepared: tuple[Any, Any], options: GenerationOptions, timeout_s: float) -> Generation:
        neighbours, model_input = prepared
        retrieved = self.retrieved()
        if options.candidate < retrieved:
            return await self.retrieval.generate(neighbours, options, timeout_s)
        try:  # the model's candidates count from 0 (its first may decode greedily); seeds stay the request's
            return await self.generator.generate(model_input, replace(options, candidate=options.candidate - retrieved),
                                                 timeout_s)
        except PerceptError as error:
            if error.code not in _MODEL_FAULTS:
                raise
            raise GenerationFailed(f"the generation model did not answer: {error.message}") from None

    async def close(self) -> None:
        await self.retrieval.close()
        await self.generator.close()
