"""Venn diagrams: two or three overlapping sets drawn as translucent circles in a universal rectangle,
each region's count written in it, the sets named, the total in the title."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, num, str_list, text

NAME = "venn_diagram"
SET_NAMES = (
    ("Physics", "Chemistry", "Biology"), ("Football", "Tennis", "Swimming"), ("Cats", "Dogs", "Birds"),
    ("Even", "Multiple of 3", "Prime"), ("Python", "Java", "C++"), ("French", "German", "Spanish"),
    ("Tea", "Coffee", "Juice"), ("Algebra", "Geometry", "Statistics"), ("A", "B", "C"), ("P", "Q", "R"),
)
POPULATIONS = ("students", "people surveyed", "members", "patients", "households", "pupils", "visitors", "samples")
# Where each region's count goes, relative to the centres below (region: which sets it is in).
TWO_REGIONS = {"A only": (-0.75, 0.0), "B only": (0.75, 0.0), "A and B": (0.0, 0.0)}
THREE_REGIONS = {"A only": (-0.85, 0.45), "B only": (0.85, 0.45), "C only": (0.0, -1.05),
                 "A and B": (0.0, 0.65), "A and C": (-0.45, -0.25), "B and C": (0.45, -0.25),
                 "all three": (0.0, 0.1)}


def _names(rng: random.Random, count: int) -> list[str]:
    if rng.random() < 0.25:
        return [w.capitalize() for w in _text.words(rng, count)]
    return list(rng.choice(SET_NAMES)[:count])


def program(rng: random.Random) -> str:
    count = rng.choice((2, 3, 3))
    names = _names(rng, count)
    regions = TWO_REGIONS if count == 2 else THREE_REGIONS
    region_counts = {region: rng.randint(1, 30) for region in regions}
    outside = rng.randint(0, 15)
    population = rng.choice(POPULATIONS)
    radius = 1.2
    centres = ([(-0.6, 0.0), (0.6, 0.0)] if count == 2 else [(-0.6, 0.35), (0.6, 0.35), (0.0, -0.6)])
    set_lines = "\n".join(f'    {text(n)}: ({num(x)}, {num(y)}),' for n, (x, y) in zip(names, centres, strict=True))
    region_lines = "\n".join(f'    "{r}": ({region_counts[r]}, ({num(x)}, {num(y)})),' for r, (x, y) in regions.items())
    label_positions = ([(-1.3, 1.1), (1.3, 1.1)] if count == 2 else [(-1.5, 1.45), (1.5, 1.45), (0.0, -2.05)])
    label_lines = ", ".join(f"({num(x)}, {num(y)})" for x, y in label_positions)
    question = rng.choice(("", "", f"How many are in {names[0]} but not {names[1]}?",
                           f"Find n({names[0]} ∪ {names[1]})", f"Find P({names[0]} ∩ {names[1]})"))
    title_line = rng.choice((
        f'f"{population.capitalize()}: {{total}} in all"',
        f'f"{{total}} {population} by {", ".join(names[:-1])} and {names[-1]}"',
        text(question or f"Survey of {population}"), f'f"Venn diagram of {count} sets (n = {{total}})"'))
    fill = rng.random() < 0.8
    circle_style = (f'facecolor=color, alpha={num(rng.choice((0.3, 0.35, 0.4, 0.5)))}, edgecolor="black"' if fill
                    else 'fill=False, edgecolor=color, linewidth=2')
    return f'''import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Rectangle

# set: the centre of its circle
sets = {{
{set_lines}
}}
radius = {num(radius)}
# region: (how many, where its count is written)
regions = {{
{region_lines}
}}
outside_count = {outside}  # in none of the sets
set_colors = {str_list(colors(rng, count))}
label_positions = [{label_lines}]

total = sum(n for n, _ in regions.values()) + outside_count
fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("square", "wide")))})
ax.add_patch(Rectangle((-2.6, -2.4), 5.2, 4.4, fill=False, edgecolor="black", linewidth=1.5))
ax.text(-2.45, 1.85, "U", fontsize=13, ha="left", va="top")
for (name, centre), color, position in zip(sets.items(), set_colors, label_positions):
    ax.add_patch(Circle(centre, radius, {circle_style}))
    ax.text(*position, name, ha="center", va="center", fontsize={rng.choice((11, 12, 13))})
for region, (how_many, position) in regions.items():
    ax.text(*position, str(how_many), ha="center", va="center", fontsize={rng.choice((10, 11, 12))})
ax.text(2.3, -2.2, str(outside_count), ha="right", va="bottom", fontsize=11)
ax.set_title({title_line})
ax.set_xlim(-2.8, 2.8)
ax.set_ylim(-2.6, 2.2)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
'''
