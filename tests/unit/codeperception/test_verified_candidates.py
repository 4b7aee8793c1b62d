"""How the `verified` backend numbers its candidates for its two sources: retrieved programs first, then
the model's, which count from 0 again (so a greedy-first request decodes the model's first one greedily)
while keeping the request's seeds. The sources are recording stand-ins: only the routing is under test."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from services.codeperception.backends.base import Generation, GenerationOptions
from services.codeperception.backends.verified import VerifiedBackend

K = 2


class Recording:
    def __init__(self, name: str) -> None:
        self.name, self.calls = name, []

    async def generate(self, prepared, options: GenerationOptions, timeout_s: float) -> Generation:
        self.calls.append(options)
        return Generation(self.name)


def _backend() -> VerifiedBackend:
    backend = VerifiedBackend.__new__(VerifiedBackend)
    backend.settings = SimpleNamespace(retrieval_k=K, max_candidates=8)
    backend.retrieval = Recording("retrieval")
    backend.retrieval.index = SimpleNamespace(size=100)
    backend.generator = Recording("model")
    return backend


def test_the_first_model_candidate_is_greedy_after_the_retrieved_ones():
    backend = _backend()
    options = GenerationOptions(temperature=0.7, seed=10, greedy_first=True)
    answers = [asyncio.run(backend.generate(((), b""), options.for_candidate(i), 1.0)).text for i in range(K + 3)]
    assert answers == ["retrieval"] * K + ["model"] * 3
    model = backend.generator.calls
    assert [o.candidate for o in model] == [0, 1, 2]
    assert [o.seed for o in model] == [10 + K, 11 + K, 12 + K]  # the request's seed + i, unchanged
    assert [o.sampling_temperature(1.0) for o in model] == [0.0, 0.7, 0.7]


def test_sampling_temperature_falls_back_to_the_backend_default():
    assert GenerationOptions().sampling_temperature(0.6) == 0.6
    assert GenerationOptions(greedy_first=True).for_candidate(1).sampling_temperature(0.6) == 0.6
    assert GenerationOptions(greedy_first=True).sampling_temperature(0.6) == 0.0
