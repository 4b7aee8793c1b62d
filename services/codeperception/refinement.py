"""Refinement: the chosen program's numbers read back from the input, one literal at a time.

A retrieved program is the right kind of figure drawn with another figure's values (the best of 4 neighbours
scores about 0.6 where the figure's own program scores about 1, docs/codepercept-mini.md). The values are what
it lacks, and the loop best-of-N already runs (render in the sandbox, score against the input) can read them
back: analysis by synthesis at the level of one literal.

The search is greedy coordinate ascent over the program's numeric literals, in the order they appear (a
figure's size and its data come first in most programs). For each literal it renders the program with the
literal nudged down and up (both at once), keeps the better try when it scores above the current program,
and goes on in that direction while that keeps paying. A pass nudges by STEP (a fifth of the value; 1 or more
for integers, so counts move by one), the next pass by half of that. It stops after `budget` renders, so a
request does the same work on any machine, after PASSES passes, or when a pass after the first changes nothing.

Before the numbers, the figure's size: the input's pixels at the render's DPI say what `figsize=(w, h)` must be
(a program drawn at another size is stretched to the input's when scored, and a retrieved neighbour's size is
its own figure's). When the program states its size as two literals, one render tries the input's; those two
literals are then left out of the search, since the input has already said what they are.

Every try is an ordinary render: the sandbox runs it under the same limits as any candidate, and a try that
raises or draws nothing just scores nothing. A literal whose tries draw the figure unchanged (a sample count,
an unused value) is not tried again in later passes.
"""
from __future__ import annotations

import asyncio
import io
import math
import tokenize
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Generic, TypeVar

STEP = 0.2          # a pass's relative nudge; each pass after the first halves it
PASSES = 3
MIN_GAIN = 1e-4     # a try must beat the current program by this much (scores are deterministic)
ZERO_NUDGE = 0.5    # a float 0 moves by this share of the step (0.1 in the first pass)
INERT = 1e-9        # tries that score this close to the program drew the same figure: the literal is not drawn

Outcome = TypeVar("Outcome")  # what a render-and-score returns besides its score (the render, the report)


@dataclass(frozen=True)
class Literal:
    """A numeric literal of a program: its text and where it lies (character offsets)."""
    start: int
    end: int
    text: str


def _tokens(code: str) -> list[tokenize.TokenInfo] | None:
    """The program's tokens; None when the source does not tokenize."""
    try:
        return list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return None


def _is_literal(token: tokenize.TokenInfo) -> bool:
    """An int or float literal (complex ones are left alone)."""
    return token.type == tokenize.NUMBER and not token.string.lower().endswith("j")


def numeric_literals(code: str) -> list[Literal]:
    """The program's int and float literals, in order; none when the source does not tokenize."""
    line_starts = [0]
    for line in code.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    return [Literal(line_starts[t.start[0] - 1] + t.start[1], line_starts[t.end[0] - 1] + t.end[1], t.string)
            for t in _tokens(code) or [] if _is_literal(t)]


def _number(text: str) -> int | float:
    """A literal's value (ints in any base Python writes)."""
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


def _as_float_literal(value: float) -> str | None:
    if not math.isfinite(value):
        return None
    text = f"{value:.6g}"
    return text if "." in text or "e" in text else text + ".0"   # stays a float


def nudged(text: str, step: float, direction: int) -> str | None:
    """The literal moved by `step` of its value in `direction` (-1 or +1); None when it cannot move that way
    (an integer would turn negative: the sign, if any, is an operator outside the literal)."""
    number = _number(text)
    if isinstance(number, float):
        if number == 0:
            return _as_float_literal(direction * step * ZERO_NUDGE)
        return _as_float_literal(number * (1 + direction * step))
    moved = number + direction * max(1, round(abs(number) * step))
    return str(moved) if moved >= 0 else None


def with_literal(code: str, literal: Literal, text: str) -> str:
    return code[:literal.start] + text + code[literal.end:]


def figure_size_positions(code: str) -> tuple[int, int] | None:
    """The positions, among numeric_literals(code), of the two numbers of the program's first
    `figsize=(w, h)`, when it writes them as literals; None otherwise."""
    tokens = [t for t in _tokens(code) or [] if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)]
    literals = 0
    for i, token in enumerate(tokens):
        if [t.string for t in tokens[i:i + 7:2]] == ["figsize", "(", ",", ")"] and tokens[i + 1].string == "=" \
                and _is_literal(tokens[i + 3]) and _is_literal(tokens[i + 5]):
            return literals, literals + 1
        literals += _is_literal(token)
    return None


def input_inches(size_px: tuple[int, int], dpi: int) -> tuple[float, float] | None:
    """The input's (width, height) in inches at the render's DPI: the figsize that draws it pixel for pixel."""
    width, height = size_px
    return (width / dpi, height / dpi) if width > 0 and height > 0 and dpi > 0 else None


def size_text(inches: float) -> str:
    """A figure size in inches as the literal a program would write (two decimals are a pixel at 100 dpi)."""
    text = f"{inches:.2f}".rstrip("0").rstrip(".")
    return text if "." in text else text + ".0"


RenderScore = Callable[[str], Awaitable[tuple[float | None, Outcome | None]]]


@dataclass
class Refinement(Generic[Outcome]):
    """One search: where it stands (the best program so far, its score and outcome) and what it took. The
    state holds whatever ended the search, so a caller whose render failed still has what was found."""
    code: str
    score: float
    # The input's size at the render's DPI, (width, height) in inches: what the program's figsize should be.
    figure_inches: tuple[float, float] | None = None
    outcome: Outcome | None = None
    renders: int = 0
    changes: list[tuple[str, str]] = field(default_factory=list)   # (old text, new text), in order

    @property
    def improved(self) -> bool:
        return bool(self.changes)

    def describe(self) -> str:
        """The changes for people: "3 numbers changed: 6 -> 7.2, 0.5 -> 0.4 -> 0.32"."""
        chains: list[list[str]] = []
        for old, new in self.changes:
            chain = next((c for c in chains if c[-1] == old), None)
            if chain is None:
                chains.append([old, new])
            else:
                chain.append(new)
        return f"{len(chains)} number{'s' if len(chains) != 1 else ''} changed: " + \
            ", ".join(" -> ".join(chain) for chain in chains)

    async def run(self, budget: int, render_score: "RenderScore[Outcome]",
                  on_try: Callable[[int], None] | None = None) -> None:
        """Search, spending at most `budget` renders. `render_score(program)` renders and scores one try:
        (None, None) when it did not render. `on_try(renders)` is told after each render. An exception of
        `render_score` (the sandbox unreachable, the deadline) ends the search, cancels the try beside it and
        propagates; the state keeps the best found before it."""
        inert: set[int] = set()   # literals whose nudges changed nothing drawn (a sample count, say): not tried again
        inert |= await self._fit_figure_size(budget, render_score, on_try)
        for pass_index in range(PASSES):
            step = STEP / 2 ** pass_index
            changed = False
            position = 0
            while self.renders < budget:
                literals = numeric_literals(self.code)   # offsets move when an accepted literal changes length
                if position >= len(literals):
                    break
                literal = literals[position]
                position += 1
                if position - 1 in inert:
                    continue
                moves = [(d, t) for d in (-1, 1) if (t := nudged(literal.text, step, d)) is not None]
                moves = moves[:budget - self.renders]
                if not moves:
                    continue
                programs = [with_literal(self.code, literal, text) for _, text in moves]
                results = await self._attempt(programs, render_score, on_try)
                if all(value is not None and abs(value - self.score) <= INERT for value, _ in results):
                    inert.add(position - 1)
                    continue
                best = max(range(len(moves)), key=lambda i: -1.0 if results[i][0] is None else results[i][0])
                direction, text = moves[best]
                if not self._accept(programs[best], results[best], literal.text, text):
                    continue
                changed = True
                # Keep going the way that paid, one render a step.
                while self.renders < budget:
                    literal = numeric_literals(self.code)[position - 1]
                    further = nudged(literal.text, step, direction)
                    if further is None:
                        break
                    program = with_literal(self.code, literal, further)
                    (result,) = await self._attempt([program], render_score, on_try)
                    if not self._accept(program, result, literal.text, further):
                        break
            if self.renders >= budget or (not changed and pass_index > 0):
                return

    async def _fit_figure_size(self, budget: int, render_score: "RenderScore[Outcome]",
                               on_try: Callable[[int], None] | None) -> set[int]:
        """One render with the program's figsize set to the input's; the positions of the figsize literals when
        they now hold the input's size (the search need not move them), else none."""
        positions = figure_size_positions(self.code) if self.figure_inches else None
        if positions is None or self.renders >= budget:
            return set()
        literals = numeric_literals(self.code)
        width, height = (literals[i] for i in positions)
        target = tuple(size_text(inches) for inches in self.figure_inches)
        if all(_number(literal.text) == float(text) for literal, text in zip((width, height), target, strict=True)):
            return set(positions)
        program = with_literal(with_literal(self.code, height, target[1]), width, target[0])
        (result,) = await self._attempt([program], render_score, on_try)
        old, new = f"figsize=({width.text}, {height.text})", f"figsize=({target[0]}, {target[1]})"
        return set(positions) if self._accept(program, result, old, new) else set()

    async def _attempt(self, programs: list[str], render_score: "RenderScore[Outcome]",
                       on_try: Callable[[int], None] | None) -> list[tuple[float | None, Outcome | None]]:
        tasks = [asyncio.ensure_future(render_score(program)) for program in programs]
        try:
            results = await asyncio.gather(*tasks)
        finally:   # a failing try (or the caller leaving) cancels the one beside it
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for _ in programs:
            self.renders += 1
            if on_try is not None:
                on_try(self.renders)
        return results

    def _accept(self, program: str, result: tuple[float | None, Outcome | None], old: str, new: str) -> bool:
        value, outcome = result
        if value is None or value <= self.score + MIN_GAIN:
            return False
        self.code, self.score, self.outcome = program, value, outcome
        self.changes.append((old, new))
        return True
