"""The metric-separation programs and how tests render them with the real sandbox.

Each folder holds one STEM-style base program (`reference.py`) and its variants, each a
complete program that changes one thing (the first line says what):

    colors      other colours            data        other data values
    labels      other title/labels/legend/texts
    missing     one element left out     chart_type  the same data as another kind of chart
    layout      (subplots_grid only) the same panels in another grid
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PAIRS_DIR = Path(__file__).resolve().parent
BASES = ("function_plot", "grouped_bars", "subplots_grid", "geometry")
VARIANTS = ("colors", "data", "labels", "missing", "chart_type", "layout")


@dataclass(frozen=True)
class Rendered:
    png: bytes  # the first figure
    trace: dict  # the parsed execution trace


def program(base: str, variant: str = "reference") -> str:
    return (PAIRS_DIR / base / f"{variant}.py").read_text()


def variants_of(base: str) -> list[str]:
    return [v for v in VARIANTS if (PAIRS_DIR / base / f"{v}.py").is_file()]


def start_pool():
    """A real sandbox pool (the production jail), one worker: the machine is small."""
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.pool import SandboxPool

    return SandboxPool(SandboxConfig.from_env(workers=1, queue_size=0))


def render(pool, code: str) -> Rendered:
    result = pool.render(code)
    assert result.status.value == "OK", f"{result.status.value}: {result.detail} {result.stderr_tail[-2000:]}"
    return Rendered(png=result.figures[0].data, trace=json.loads(result.trace_json))
