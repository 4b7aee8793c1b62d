"""Scatter plots: measured points in one to three groups, with a least-squares line and its equation,
sized as bubbles or coloured by a third quantity with a colour bar; some as two panels."""
from __future__ import annotations

import random

from . import _text
from ._common import (
    LEGEND_PLACES,
    SEQUENTIAL_COLORMAPS,
    colors,
    figure_size,
    grid_line,
    line_style,
    num,
    num_list,
    panel_size,
    str_list,
    style_sheet,
    text,
    variant,
)

NAME = "scatter_plot"
MARKERS = ("o", "s", "^", "D", "v", "p", "h", "*")


def _points(rng: random.Random, x: _text.Quantity, y: _text.Quantity, count: int) -> tuple[list, list]:
    """Points near a straight line through y's range, with noise."""
    xs = sorted(rng.uniform(x.low, x.high) for _ in range(count))
    return xs, _responses(rng, xs, x, y)


def _responses(rng: random.Random, xs: list, x: _text.Quantity, y: _text.Quantity) -> list:
    rising = rng.random() < 0.7
    start, end = (y.low, y.high) if rising else (y.high, y.low)
    noise = rng.uniform(0.03, 0.15) * (y.high - y.low)
    ys = [start + (end - start) * (v - x.low) / (x.high - x.low) + rng.gauss(0, noise) for v in xs]
    return ys


def _groups(rng: random.Random) -> str:
    x, y = _text.ordered(rng), _text.quantity(rng)
    group_count = rng.choice((1, 1, 1, 2, 2, 3))
    names = _text.labels(rng, group_count)
    x_digits, y_digits = _text.digits_for(x), _text.digits_for(y)
    rows = []
    for name in names:
        xs, ys = _points(rng, x, y, rng.randint(8, 25))
        rows.append(f"    {text(name)}: ({num_list(xs, x_digits)},\n"
                    f"        {num_list(ys, y_digits)}),")
    fit = group_count == 1 and rng.random() < 0.7
    fit_code = ""
    if fit:
        fit_code = f'''
slope, intercept = np.polyfit(x, y, deg=1)
fit_x = np.linspace(min(x), max(x), 100)
ax.plot(fit_x, slope * fit_x + intercept, color="{colors(rng, 1)[0]}", linestyle="{line_style(rng, 0.3)}",
        label=f"fit: y = {{slope:.{rng.choice((2, 3))}f}}x + {{intercept:.2f}}")
'''
    legend = f"ax.legend(loc={text(rng.choice(LEGEND_PLACES))})\n" if group_count > 1 or fit else ""
    size = rng.choice((20, 30, 40, 60))
    edge = rng.choice(('"black"', '"white"', '"none"'))
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}# group: (x values, y values)
measurements = {{
{chr(10).join(rows)}
}}
point_colors = {str_list(colors(rng, group_count))}
point_markers = {str_list(rng.sample(MARKERS, group_count))}
point_size = {size}

fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("wide", "wide", "square")))})
for (name, (x, y)), color, marker in zip(measurements.items(), point_colors, point_markers):
    ax.scatter(x, y, s=point_size, color=color, marker=marker, edgecolor={edge}, alpha={num(rng.choice((1, 0.8, 0.7)))},
               label=name)
{fit_code}
ax.set_xlabel({text(_text.axis_label(rng, x))})
ax.set_ylabel({text(_text.axis_label(rng, y))})
ax.set_title({text(_text.caption_number(rng) + _text.title(rng, y, x))})
{legend}{grid_line(rng)}plt.tight_layout()
plt.show()
'''


def _coloured(rng: random.Random) -> str:
    """Points coloured by a third quantity (with a colour bar), some sized by it too."""
    x, y, z = _text.quantities(rng, 3)
    count = rng.randint(12, 40)
    xs, ys = _points(rng, x, y, count)
    zs = [rng.uniform(z.low, z.high) for _ in range(count)]
    bubbles = rng.random() < 0.5
    sizes = "sizes = 20 + 180 * (z - z.min()) / (z.max() - z.min())\n" if bubbles else "sizes = 40\n"
    return f'''import numpy as np
import matplotlib.pyplot as plt

x = np.array({num_list(xs, _text.digits_for(x))})
y = np.array({num_list(ys, _text.digits_for(y))})
z = np.array({num_list(zs, _text.digits_for(z))})
colormap = "{rng.choice(SEQUENTIAL_COLORMAPS)}"
{sizes}
fig, ax = plt.subplots(figsize={figure_size(rng)})
points = ax.scatter(x, y, c=z, s=sizes, cmap=colormap, edgecolor="black", linewidth=0.5)
fig.colorbar(points, ax=ax, label={text(_text.axis_label(rng, z))})
ax.set_xlabel({text(_text.axis_label(rng, x))})
ax.set_ylabel({text(_text.axis_label(rng, y))})
ax.set_title({text(_text.title(rng, y, x))})
{grid_line(rng)}plt.tight_layout()
plt.show()
'''


def _panels(rng: random.Random) -> str:
    """The same x quantity against two others, one panel each."""
    x = _text.ordered(rng)
    first, second = _text.quantities(rng, 2)
    count = rng.randint(10, 20)
    xs = sorted(round(rng.uniform(x.low, x.high), _text.digits_for(x)) for _ in range(count))
    ys = {q: _responses(rng, xs, x, q) for q in (first, second)}
    rows = "\n".join(f"    {text(_text.axis_label(rng, q))}: {num_list(v, _text.digits_for(q))},"
                     for q, v in ys.items())
    layout = rng.choice(((1, 2), (2, 1)))
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}x = np.array({num_list(xs, _text.digits_for(x))})
responses = {{
{rows}
}}
panel_colors = {str_list(colors(rng, 2))}
marker = "{rng.choice(MARKERS)}"

fig, axes = plt.subplots({layout[0]}, {layout[1]}, figsize={panel_size(rng, *layout)})
for ax, (label, y), color in zip(axes, responses.items(), panel_colors):
    ax.scatter(x, y, color=color, marker=marker)
    slope, intercept = np.polyfit(x, y, deg=1)
    ax.plot(x, slope * x + intercept, color="gray", linewidth=1)
    ax.set_xlabel({text(_text.axis_label(rng, x))})
    ax.set_ylabel(label)
    ax.set_title(f"slope {{slope:.3g}}", fontsize=10)
fig.suptitle({text(_text.title(rng, first, x))})
fig.tight_layout()
plt.show()
'''


def program(rng: random.Random) -> str:
    return variant(rng, ((0.2, _coloured), (0.35, _panels)), otherwise=_groups)
