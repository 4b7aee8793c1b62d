"""Choosing the next token from logits (numpy): greedy, or temperature + top-k + top-p
with a seeded generator so that the same seed gives the same text."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplingOptions:
    temperature: float = 0.0      # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0                # 0 = no top-k
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


class Sampler:
    def __init__(self, options: SamplingOptions) -> None:
        self.options = options
        # The contract's SEED is INT64; numpy seeds are non-negative, so a seed is taken as its
        # 64-bit pattern (one-to-one: -1 and 2**64 - 1 are the same seed, any other two differ).
        seed = None if options.seed is None else options.seed & 0xFFFF_FFFF_FFFF_FFFF
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits: np.ndarray) -> int:
        options = self.options
        if options.greedy:
            return int(np.argmax(logits))
        scaled = logits.astype(np.float64) / options.temperature
        order = np.argsort(-scaled, kind="stable")
        if options.top_k > 0:
            order = order[:options.top_k]
        chosen = scaled[order]
        probs = np.exp(chosen - chosen.max())
        probs /= probs.sum()
        if options.top_p < 1.0:
            # keep the smallest prefix whose mass reaches top_p (always at least one token)
            keep = int(np.searchsorted(np.cumsum(probs), options.top_p) + 1)
            order, probs = order[:keep], probs[:keep] / probs[:keep].sum()
        return int(order[self.rng.choice(len(order), p=probs)])
