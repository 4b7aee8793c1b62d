"""The refinement's search (services/codeperception/refinement.py) over a scoring function whose best program is
known: which literals it reads, how it nudges them, that it climbs to the best within its budget, and that a
failure keeps what it had found. Rendering and scoring for real are tests/integration/codeperception's."""
from __future__ import annotations

import asyncio
import re

import pytest

from services.codeperception.refinement import (
    Refinement,
    figure_size_positions,
    input_inches,
    nudged,
    numeric_literals,
    with_literal,
)

PROGRAM = "import numpy as np\nbars = 5\nwidth = 0.5\nplt.figure(figsize=(6.4, 4.8))\nz = 2j\n"


def test_the_literals_are_the_programs_ints_and_floats_in_order():
    literals = numeric_literals(PROGRAM)
    assert [literal.text for literal in literals] == ["5", "0.5", "6.4", "4.8"]   # not the complex 2j
    assert all(PROGRAM[literal.start:literal.end] == literal.text for literal in literals)
    assert with_literal(PROGRAM, literals[1], "0.25").count("width = 0.25\n") == 1


def test_a_program_that_does_not_tokenize_has_no_literals():
    assert numeric_literals("x = (1, 2\n") == []


@pytest.mark.parametrize("text, step, direction, expected", [
    ("3", 0.2, 1, "4"), ("3", 0.2, -1, "2"),           # counts move by one
    ("300", 0.2, 1, "360"), ("300", 0.2, -1, "240"),   # larger integers by the step
    ("0", 0.2, -1, None), ("0", 0.2, 1, "1"),          # an integer does not turn negative
    ("0.5", 0.2, 1, "0.6"), ("6.0", 0.2, -1, "4.8"),
    ("5.0", 0.2, 1, "6.0"),                            # a float stays a float
    ("0.0", 0.2, -1, "-0.1"), ("0.0", 0.1, 1, "0.05"),
    ("1e308", 0.9, 1, None),                           # not past the largest float
])
def test_a_nudge_moves_a_literal_by_the_step(text, step, direction, expected):
    assert nudged(text, step, direction) == expected


def _distance_score(targets: dict[str, float]):
    """A render-and-score whose best program sets each named value to its target; `renders` counts calls."""
    calls = []

    async def render_score(program: str):
        calls.append(program)
        values = {name: float(value) for name, value in re.findall(r"(\w+) = ([-\d.e]+)", program)}
        if values.get("bars", 1) < 1:
            return None, None      # a figure with no bars draws nothing: no score
        return 1.0 - sum(abs(values[name] - target) / (1 + abs(target)) for name, target in targets.items()), program
    return render_score, calls


def test_the_search_climbs_towards_the_best_program_within_its_budget():
    render_score, calls = _distance_score({"bars": 8, "width": 0.3})
    search = Refinement("bars = 5\nwidth = 0.5\n", score=0.0)
    asyncio.run(search.run(40, render_score))
    assert "bars = 8\n" in search.code
    assert abs(float(re.search(r"width = ([\d.]+)", search.code).group(1)) - 0.3) < 0.05
    assert search.improved and search.renders == len(calls) <= 40
    assert search.outcome == search.code             # the accepted try's outcome comes with it
    assert search.describe().startswith("2 numbers changed: 5 -> 6 -> 7 -> 8, 0.5 -> ")


def test_the_budget_bounds_the_renders():
    render_score, calls = _distance_score({"bars": 50})
    search = Refinement("bars = 5\n", score=0.0)
    asyncio.run(search.run(3, render_score))
    assert len(calls) == search.renders == 3


def test_a_try_that_draws_nothing_never_wins():
    render_score, calls = _distance_score({"bars": 0})   # nearest the target, but no bars draw nothing
    search = Refinement("bars = 1\n", score=0.0)
    asyncio.run(search.run(16, render_score))
    assert "bars = 0\n" in calls
    assert not search.improved and search.code == "bars = 1\n" and search.score == 0.0
    assert len(calls) == 4                # two passes that change nothing end the search


def test_a_failing_render_ends_the_search_and_keeps_what_it_found():
    render_score, _ = _distance_score({"bars": 9})

    async def failing(program: str):
        if "bars = 8" in program:
            raise ConnectionError("the sandbox went away")
        return await render_score(program)

    search = Refinement("bars = 5\n", score=0.0)
    with pytest.raises(ConnectionError):
        asyncio.run(search.run(40, failing))
    assert search.code == "bars = 7\n" and search.improved


def test_a_literal_that_draws_nothing_different_is_not_tried_again():
    render_score, calls = _distance_score({"bars": 8})   # `samples` is not drawn: its tries score the same
    start = "samples = 300\nbars = 5\n"
    value, _ = asyncio.run(render_score(start))
    calls.clear()
    search = Refinement(start, score=value)
    asyncio.run(search.run(40, render_score))
    assert "bars = 8\n" in search.code
    assert sum("samples = 300\n" not in call for call in calls) == 2   # its two tries of the first pass only


def test_the_figure_size_is_found_among_the_literals_when_written_as_two():
    assert figure_size_positions(PROGRAM) == (2, 3)                    # 6.4 and 4.8, after 5 and 0.5
    assert figure_size_positions("fig, ax = plt.subplots(1, 2, figsize=(8, 3))\n") == (2, 3)
    assert figure_size_positions("size = (6, 4)\nplt.figure(figsize=size)\n") is None
    assert figure_size_positions("plt.figure(figsize=(w, 4))\n") is None
    assert input_inches((800, 450), 100) == (8.0, 4.5) and input_inches((0, 450), 100) is None


def _size_score(target: tuple[float, float]):
    """A render-and-score that rewards the figsize nearest `target` and `bars` nearest 8."""
    calls = []

    async def render_score(program: str):
        calls.append(program)
        width, height = map(float, re.search(r"figsize=\(([\d.]+), ([\d.]+)\)", program).groups())
        bars = float(re.search(r"bars = ([\d.]+)", program).group(1))
        return 1.0 - abs(width - target[0]) - abs(height - target[1]) - abs(bars - 8) / 10, program
    return render_score, calls


def test_the_input_size_is_tried_first_and_then_left_alone():
    render_score, calls = _size_score((8.0, 4.5))
    start = "plt.figure(figsize=(6.4, 4.8))\nbars = 5\n"
    search = Refinement(start, score=asyncio.run(render_score(start))[0], figure_inches=(8.0, 4.5))
    calls.clear()
    asyncio.run(search.run(16, render_score))
    assert calls[0] == "plt.figure(figsize=(8.0, 4.5))\nbars = 5\n"    # one render, the input's size
    assert all("figsize=(8.0, 4.5)" in call for call in calls)          # its literals are not nudged after
    assert search.code == "plt.figure(figsize=(8.0, 4.5))\nbars = 8\n"
    assert search.describe().startswith("2 numbers changed: figsize=(6.4, 4.8) -> figsize=(8.0, 4.5), 5 -> 6")


def test_an_input_size_that_scores_lower_is_not_kept_and_the_size_stays_searchable():
    render_score, calls = _size_score((6.4, 4.8))        # the program's own size is the best
    start = "plt.figure(figsize=(6.4, 4.8))\nbars = 8\n"
    search = Refinement(start, score=asyncio.run(render_score(start))[0], figure_inches=(8.0, 4.5))
    calls.clear()
    asyncio.run(search.run(16, render_score))
    assert calls[0] == "plt.figure(figsize=(8.0, 4.5))\nbars = 8\n" and not search.improved
    assert any("figsize=(5.12, 4.8)" in call for call in calls[1:])     # then nudged as any literal
