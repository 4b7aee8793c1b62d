"""Summaries of a benchmark run k times: the median with its min-max, and targets judged on the median.

A benchmark that is repeated k times yields one value per repeat (a ratio, a percentage,
a latency). Report them as

    >>> s = summarize([1.52, 1.38, 1.45])
    >>> s.format("x")
    '1.45x (1.38–1.52)'
    >>> s.meets(1.2)                       # at least 1.2
    True
    >>> summarize([0.10, 0.20, 0.30]).meets(0.15, higher_is_better=False)   # at most 0.15
    False

A target counts as met only when the median meets it: one lucky repeat (the best of k)
never does. The min-max range is there to show the spread, not to decide.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Summary:
    """Median, lowest and highest of n per-repeat values."""
    median: float
    low: float
    high: float
    n: int

    def format(self, unit: str = "", digits: int = 2) -> str:
        """'1.45x (1.38–1.52)': the median with the unit, then the min-max range."""
        return f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}–{self.high:.{digits}f})"

    def meets(self, target: float, *, higher_is_better: bool = True) -> bool:
        """Whether the median reaches `target` (>= it, or <= it when lower is better)."""
        return self.median >= target if higher_is_better else self.median <= target


def summarize(values: Iterable[float]) -> Summary:
    """The Summary of one value per repeat; at least one value."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("summarize() needs at least one value")
    return Summary(median=statistics.median(values), low=min(values), high=max(values), n=len(values))


def yes_no(met: bool) -> str:
    """'yes' / 'no', for a table's "met" column."""
    return "yes" if met else "no"


def replace_block(text: str, start_marker: str, end_marker: str, body: str) -> str:
    """`text` with what lies between the two markers replaced by `body`: each benchmark
    rewrites only its own block of docs/benchmarks.md."""
    start, end = text.index(start_marker), text.index(end_marker)
    return text[:start + len(start_marker)] + "\n" + body + "\n" + text[end:]
