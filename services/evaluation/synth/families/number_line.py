"""Number lines: an interval with open or closed ends and labelled points on a ticked line."""
from __future__ import annotations

import random

from ._common import colors

NAME = "number_line"


def program(rng: random.Random) -> str:
    low = rng.randint(-10, 0)
    high = low + rng.randint(8, 16)
    left = rng.randint(low + 1, high - 4)
    right = rng.randint(left + 2, high - 1)
    left_closed, right_closed = rng.random() < 0.5, rng.random() < 0.5
    marked = sorted(rng.sample([v for v in range(low + 1, high) if v not in (left, right)], 2))
    interval_color, point_color = colors(rng, 2)
    return f'''import matplotlib.pyplot as plt

line_start, line_end = {low}, {high}
interval_left, interval_right = {left}, {right}
left_closed, right_closed = {left_closed}, {right_closed}
marked_points = {{"P": {marked[0]}, "Q": {marked[1]}}}
interval_color, point_color = "{interval_color}", "{point_color}"
tick_height = 0.15

fig, ax = plt.subplots(figsize=(8, 2.2))
ax.annotate("", xy=(line_end + 0.5, 0), xytext=(line_start - 0.5, 0),
            arrowprops={{"arrowstyle": "<->", "color": "black"}})
for value in range(line_start, line_end + 1):
    ax.plot([value, value], [-tick_height, tick_height], color="black", linewidth=1)
    ax.text(value, -3 * tick_height, str(value), ha="center", va="top")

ax.plot([interval_left, interval_right], [0, 0], color=interval_color, linewidth=4)
for end, closed in ((interval_left, left_closed), (interval_right, right_closed)):
    ax.plot(end, 0, "o", markersize=10, markeredgecolor=interval_color,
            markerfacecolor=interval_color if closed else "white")
for name, value in marked_points.items():
    ax.plot(value, 0, "s", color=point_color)
    ax.text(value, 2.5 * tick_height, name, ha="center", va="bottom", color=point_color)

left_bracket = "[" if left_closed else "("
right_bracket = "]" if right_closed else ")"
ax.set_title(f"The interval {{left_bracket}}{{interval_left}}, {{interval_right}}{{right_bracket}} on the number line")
ax.set_ylim(-1, 1)
ax.axis("off")
plt.show()
'''
