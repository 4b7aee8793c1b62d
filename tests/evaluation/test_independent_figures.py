"""The independent figure set (tests/evaluation/independent_figures): every program renders in the
production jail (an in-process sandbox pool) to exactly one figure."""
from __future__ import annotations

from pathlib import Path

import pytest

FIGURES = sorted((Path(__file__).parent / "independent_figures").glob("f*.py"))


@pytest.fixture(scope="module")
def pool():
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.pool import SandboxPool

    with SandboxPool(SandboxConfig.from_env(workers=1, queue_size=0)) as sandbox:
        yield sandbox


def test_the_set_is_large_enough_to_report_on():
    assert len(FIGURES) >= 16


@pytest.mark.parametrize("program", FIGURES, ids=[p.stem for p in FIGURES])
def test_each_program_draws_one_figure(pool, program):
    from percept_sandbox.render.results import RenderOptions, Status

    result = pool.render(program.read_text(), RenderOptions(dpi=50))
    assert result.status is Status.OK and len(result.figures) == 1, (result.status, result.detail,
                                                                     result.stderr_tail[-1500:])
    assert result.figures[0].data.startswith(b"\x89PNG")

