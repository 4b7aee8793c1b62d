"""Choosing the next token from logits (numpy): greedy, or temperature + top-k + top-p
with a seeded generator so that the same seed gives the same text.

The candidates are the tokens in descending order of logit, ties in token order (a stable sort);
top-k keeps the first k, top-p the shortest prefix whose probability reaches p. Sorting all
of a vocabulary's logits for every token was most of a sampled token's Python time, while top-p
at a usual temperature keeps a handful. So the sort is
of the head alone (`_head`), widened until it holds the prefix, and the whole vocabulary is
sorted only when the head never reaches p (a flat distribution)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HEAD = 64   # tokens sorted first; the head is widened 8x at a time while it falls short of top-p


@dataclass(frozen=True)
class SamplingOptions:
    temperature: float = 0.0      # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0                # 0 = no top-k
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


def _head(scaled: np.ndarray, size: int) -> np.ndarray:
    """The first `size` or more tokens of the descending stable order, in that order: every token
    scoring at least the size-th highest (so ties at the boundary all come, and the order among
    them is the full sort's), sorted."""
    if size >= scaled.size:
        return np.argsort(-scaled, kind="stable")
    boundary = np.partition(scaled, scaled.size - size)[scaled.size - size]
    members = np.flatnonzero(scaled >= boundary)            # ascending token ids
    return members[np.argsort(-scaled[members], kind="stable")]


class Sampler:
    def __init__(self, options: SamplingOptions) -> None:
        self.options = options
        # The contract's SEED is INT64; numpy seeds are non-negative, so a seed is taken as its
        # 64-bit pattern (one-to-one: -1 and 2**64 - 1 are the same seed, any other two differ).
        seed = None if options.seed is None else options.seed & 0xFFFF_FFFF_FFFF_FFFF
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits: np.ndarray) -> int:
        if self.options.greedy:
            return int(np.argmax(logits))
        tokens, weights = self.candidates(logits)
        return int(tokens[self._draw(weights)])

    def candidates(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tokens a sampled step may take, in the stable descending order, and their weights
        (proportional to their probabilities after temperature; not normalised)."""
        options = self.options
        scaled = logits.astype(np.float64) / options.temperature
        if options.top_k > 0:
            order = _head(scaled, options.top_k)[:options.top_k]
            chosen = scaled[order]
            probs = np.exp(chosen - chosen.max())
            probs /= probs.sum()
        else:
            probs_of = np.exp(scaled - scaled.max())
            probs_of /= probs_of.sum()
            if options.top_p >= 1.0:   # every token stays, in token order: no sort is needed
                return np.arange(scaled.size), probs_of
            size = HEAD
            while True:
                order = _head(scaled, size)
                probs = probs_of[order]
                if order.size == scaled.size or probs.sum() >= options.top_p:
                    break
                size *= 8
        if options.top_p < 1.0:
            # keep the smallest prefix whose mass reaches top_p (always at least one token)
            keep = min(int(np.searchsorted(np.cumsum(probs), options.top_p) + 1), order.size)
            order, probs = order[:keep], probs[:keep]
        return order, probs

    def _draw(self, weights: np.ndarray) -> int:
        """An index drawn in proportion to `weights`: Generator.choice(len, p=) without its checks
        (the same one uniform draw and the same cumulative search, so the same seed picks the same)."""
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        return int(cdf.searchsorted(self.rng.random(), side="right"))
