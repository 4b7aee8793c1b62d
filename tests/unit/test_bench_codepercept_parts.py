"""Where a best-of call's time went (tests/bench/bench_codepercept_mini.py `parts`): the answer waits on the
candidate whose generation, render and score end last, not on the one that generated longest."""
from __future__ import annotations

import pytest

from tests.bench.bench_codepercept_mini import PARTS, parts


def _candidate(generation: float, render: float, score: float, tokens: int) -> dict:
    return {"timings": {"generation_s": generation, "render_s": render, "score_s": score},
            "usage": {"prompt_tokens": 300, "completion_tokens": tokens}}


def test_the_slowest_path_is_generation_render_and_score_together():
    body = {"total_s": 3.0, "candidates": [_candidate(2.0, 0.9, 0.05, 500),    # ends at 2.95: the path
                                           _candidate(2.2, 0.3, 0.05, 700),    # generated longest, ends at 2.55
                                           _candidate(1.0, 0.0, 0.0, 100)]}    # no render
    found = parts(3.1, body)
    assert set(found) == set(PARTS)
    assert found["generation"] == 2.0 and found["tokens"] == 500
    assert found["render_score"] == pytest.approx(0.95)
    assert found["around"] == pytest.approx(0.05) and found["gateway"] == pytest.approx(0.1)
