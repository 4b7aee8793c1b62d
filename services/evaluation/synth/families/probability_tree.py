"""Probability trees: two or three stages of events with their (conditional) probabilities on the
branches, as decimals or fractions, and each outcome's probability computed at the leaves."""
from __future__ import annotations

import random
from fractions import Fraction

from . import _text
from ._common import colors, figure_size, num, text

NAME = "probability_tree"
EVENT_PAIRS = (
    ("Rain", "No rain"), ("H", "T"), ("Heads", "Tails"), ("Red", "Blue"), ("Pass", "Fail"), ("Defective", "OK"),
    ("Win", "Lose"), ("Positive", "Negative"), ("Late", "On time"), ("A", "A'"), ("B", "B'"), ("Hit", "Miss"),
    ("Girl", "Boy"), ("Six", "Not six"), ("Faulty", "Working"), ("Sunny", "Cloudy"), ("Yes", "No"),
)
EVENT_TRIPLES = (("Red", "Green", "Blue"), ("Low", "Medium", "High"), ("Bus", "Train", "Car"), ("X", "Y", "Z"))


def _probabilities(rng: random.Random, count: int, fractions: bool) -> list[Fraction]:
    if fractions:
        denominator = rng.choice((3, 4, 5, 6, 8, 10))
        cuts = sorted(rng.sample(range(1, denominator), count - 1))
        parts = [b - a for a, b in zip([0] + cuts, cuts + [denominator], strict=True)]
        return [Fraction(p, denominator) for p in parts]
    cuts = sorted(rng.sample(range(1, 10), count - 1))
    parts = [b - a for a, b in zip([0] + cuts, cuts + [10], strict=True)]
    return [Fraction(p, 10) for p in parts]


def _literal(p: Fraction, fractions: bool) -> str:
    return f"Fraction({p.numerator}, {p.denominator})" if fractions else num(float(p))


def _events(rng: random.Random, count: int) -> list[str]:
    if count == 3:
        return list(rng.choice(EVENT_TRIPLES))
    if rng.random() < 0.25:
        word = _text.word(rng).capitalize()
        return [word, f"Not {word.lower()}"]
    return list(rng.choice(EVENT_PAIRS))


def _tree(rng: random.Random, stages: list[list[str]], fractions: bool, depth: int = 0, indent: str = "    ") -> str:
    """The tree as nested dict code, {event: (probability, subtree or None)}: every branch point draws its
    own (conditional) probabilities."""
    events = stages[depth]
    lines = ["{"]
    for event, probability in zip(events, _probabilities(rng, len(events), fractions), strict=True):
        subtree = _tree(rng, stages, fractions, depth + 1, indent + "    ") if depth + 1 < len(stages) else "None"
        lines.append(f"{indent}{text(event)}: ({_literal(probability, fractions)}, {subtree}),")
    lines.append(indent[4:] + "}")
    return "\n".join(lines)


def program(rng: random.Random) -> str:
    stage_count = rng.choice((2, 2, 2, 3))
    first_size = 3 if stage_count == 2 and rng.random() < 0.25 else 2
    first = _events(rng, first_size)
    stages = [first] + [_events(rng, 2) for _ in range(stage_count - 1)]
    if rng.random() < 0.4:  # the same experiment repeated: the same events at every stage
        stages = [first] * stage_count
    fractions = rng.random() < 0.4
    tree = _tree(rng, stages, fractions)
    branch_color, leaf_color = colors(rng, 2)
    product = "Fraction(1)" if fractions else "1.0"
    show = "str(probability)" if fractions else 'f"{probability:g}"'
    leaf_value = "str(leaf)" if fractions else f'f"{{leaf:.{rng.choice((2, 3, 4))}f}}"'
    title = _text.exercise_prefix(rng) + rng.choice((
        "Probability tree", f"Tree diagram: {stage_count} stages", f"P({stages[0][0]}) = ?",
        f"Outcomes of {stage_count} {rng.choice(('draws', 'trials', 'days', 'tests', 'rounds'))}",
        f"{' then '.join(stage[0] for stage in stages)}: tree diagram"))
    imports = "from fractions import Fraction\n\n" if fractions else ""
    return f'''{imports}import matplotlib.pyplot as plt

# event: (probability on its branch, the next stage's branches or None at a leaf)
tree = {tree}
stages = {stage_count}
stage_spacing = {num(rng.choice((3, 3.5, 4)))}
spread = {num(rng.choice((2, 2.5, 3)))}  # half the height of the first stage's fan
branch_color, leaf_color = "{branch_color}", "{leaf_color}"
font_size = {rng.choice((9, 10, 11))}


def draw(ax, branches, x, y, spread, path, path_probability):
    """Each branch from (x, y): its event above it, its probability below; then the event's own branches,
    or at a leaf the probability of the whole path."""
    step = 2 * spread / (len(branches) - 1) if len(branches) > 1 else 0
    for index, (event, (probability, subtree)) in enumerate(branches.items()):
        end_x, end_y = x + stage_spacing, y + spread - index * step
        middle_x, middle_y = (x + end_x) / 2, (y + end_y) / 2
        ax.plot([x, end_x], [y, end_y], color=branch_color, linewidth=1.5)
        ax.plot(end_x, end_y, "o", color=branch_color, markersize=3)
        ax.text(middle_x, middle_y + 0.1, event, ha="center", va="bottom", fontsize=font_size)
        ax.text(middle_x, middle_y - 0.1, {show}, ha="center", va="top", fontsize=font_size - 1,
                color="dimgray")
        if subtree is None:
            outcome = path + [event]
            leaf = path_probability * probability
            value = {leaf_value}
            ax.text(end_x + 0.3, end_y, f"P({{', '.join(outcome)}}) = {{value}}", ha="left", va="center",
                    fontsize=font_size - 1, color=leaf_color)
        else:
            draw(ax, subtree, end_x, end_y, spread / len(branches), path + [event], path_probability * probability)


fig, ax = plt.subplots(figsize={figure_size(rng, "wide")})
ax.plot(0, 0, "o", color=branch_color)
draw(ax, tree, 0, 0, spread, [], {product})
ax.set_title({text(title)})
ax.set_xlim(-0.5, stages * stage_spacing + 4.5)  # room for the outcomes at the right
ax.margins(y=0.1)
ax.axis("off")
plt.show()
'''
