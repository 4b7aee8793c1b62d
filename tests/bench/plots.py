"""The plotting every benchmark script shares: headless pyplot, median bars with min-max
error bars from tests/bench/stats summaries, and writing the figure under docs/img."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tests.bench.stats import Summary


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display on a benchmark machine)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def median_bars(summaries: Iterable[Summary]) -> tuple[list[float], list[list[float]]]:
    """(medians, [below, above]): bar heights and the yerr/xerr that reach each summary's min and max."""
    summaries = list(summaries)
    medians = [s.median for s in summaries]
    return medians, [[s.median - s.low for s in summaries], [s.high - s.median for s in summaries]]


def save(fig, path: Path, *, dpi: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
