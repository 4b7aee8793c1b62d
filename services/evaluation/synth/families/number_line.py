"""Number lines: an interval or a ray with open or closed ends (an inequality's solution set) and
labelled points on a ticked line, with steps of 1, 2, 5, 10 or one half."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, num, text

NAME = "number_line"
STEPS = (1, 1, 1, 2, 5, 10, 0.5)


def _inequality(left, right, left_closed, right_closed, variable) -> str:
    """The set as an inequality: "-2 < x ≤ 3", "x ≥ 1" (a None end is unbounded)."""
    if left is None:
        return f"{variable} {'≤' if right_closed else '<'} {num(right)}"
    if right is None:
        return f"{variable} {'≥' if left_closed else '>'} {num(left)}"
    return f"{num(left)} {'≤' if left_closed else '<'} {variable} {'≤' if right_closed else '<'} {num(right)}"


def program(rng: random.Random) -> str:
    step = rng.choice(STEPS)
    ticks = rng.randint(8, 16)
    low = rng.randint(-ticks + 2, 0) * step
    high = low + ticks * step
    kind = rng.choice(("interval", "interval", "ray_left", "ray_right"))
    left_index = rng.randint(1, ticks - 4)
    right_index = rng.randint(left_index + 2, ticks - 1)
    left, right = low + left_index * step, low + right_index * step
    if kind == "ray_left":
        left = None
    elif kind == "ray_right":
        right = None
    left_closed, right_closed = rng.random() < 0.5, rng.random() < 0.5
    taken = {left, right}
    free = [low + i * step for i in range(1, ticks) if low + i * step not in taken]
    point_count = rng.choice((0, 1, 2, 2, 3))
    point_names = rng.choice(("PQRS", "ABCD", "KLMN", "UVWX"))[:point_count]
    points = sorted(rng.sample(free, point_count))
    marked = ", ".join(f'"{n}": {num(v)}' for n, v in zip(point_names, points, strict=True))
    interval_color, point_color = colors(rng, 2)
    variable = rng.choice(("x", "x", "t", "n", "y"))
    solution = _inequality(left, right, left_closed, right_closed, variable)
    title = _text.exercise_prefix(rng) + rng.choice((
        f"The solution set of {solution}", f"Graph of {solution}", f"{solution} on the number line",
        f"Which inequality is shown? ({len(points)} points marked)" if points else "Which inequality is shown?",
        f"Show {solution}"))
    label_every = 2 if ticks > 12 and rng.random() < 0.5 else 1
    end_code = {
        "interval": "ends = [(interval_left, left_closed), (interval_right, right_closed)]\n"
                    "ax.plot([interval_left, interval_right], [0, 0], color=interval_color, linewidth=4)\n",
        "ray_left": "ends = [(interval_right, right_closed)]\n"
                    "ax.annotate(\"\", xy=(line_start - 0.4 * step, 0), xytext=(interval_right, 0),\n"
                    "            arrowprops={\"arrowstyle\": \"-|>\", \"color\": interval_color, \"linewidth\": 4})\n",
        "ray_right": "ends = [(interval_left, left_closed)]\n"
                     "ax.annotate(\"\", xy=(line_end + 0.4 * step, 0), xytext=(interval_left, 0),\n"
                     "            arrowprops={\"arrowstyle\": \"-|>\", \"color\": interval_color, \"linewidth\": 4})\n",
    }[kind]
    return f'''import numpy as np
import matplotlib.pyplot as plt

line_start, line_end, step = {num(low)}, {num(high)}, {num(step)}
interval_left, interval_right = {num(left) if left is not None else None}, {num(right) if right is not None else None}
left_closed, right_closed = {left_closed}, {right_closed}
marked_points = {{{marked}}}
interval_color, point_color = "{interval_color}", "{point_color}"
tick_height = 0.15
label_every = {label_every}  # label every n-th tick

fig, ax = plt.subplots(figsize={figure_size(rng, "strip")})
ax.annotate("", xy=(line_end + 0.5 * step, 0), xytext=(line_start - 0.5 * step, 0),
            arrowprops={{"arrowstyle": "<->", "color": "black"}})
for index, value in enumerate(np.arange(line_start, line_end + step / 2, step)):
    ax.plot([value, value], [-tick_height, tick_height], color="black", linewidth=1)
    if index % label_every == 0:
        ax.text(value, -3 * tick_height, f"{{value:g}}", ha="center", va="top", fontsize=9)

{end_code}for end, closed in ends:
    ax.plot(end, 0, "o", markersize=10, markeredgecolor=interval_color,
            markerfacecolor=interval_color if closed else "white", zorder=3)
for name, value in marked_points.items():
    ax.plot(value, 0, "{rng.choice(("s", "D", "^", "v"))}", color=point_color, zorder=3)
    ax.text(value, 2.5 * tick_height, name, ha="center", va="bottom", color=point_color)

ax.set_title({text(title)})
ax.set_xlim(line_start - step, line_end + step)
ax.set_ylim(-1, 1)
ax.axis("off")
plt.show()
'''
