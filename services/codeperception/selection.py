"""Which candidate wins best-of-N.

A candidate that rendered always beats one that did not; among rendered ones the
highest aggregate fidelity wins, ties going to the lowest index (so the answer does
not depend on which render finished first). When nothing rendered, candidate 0.
"""
from __future__ import annotations

from typing import Sequence


def choose_best(scores: Sequence[float | None]) -> int:
    """`scores[i]`: candidate i's aggregate fidelity, or None when it did not render."""
    best = None
    for index, score in enumerate(scores):
        if score is not None and (best is None or score > scores[best]):
            best = index
    return 0 if best is None else best
