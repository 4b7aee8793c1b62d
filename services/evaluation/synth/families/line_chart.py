"""Line charts: one to five measured series over months, years or a measured quantity, with markers,
line styles and a legend; some with a shaded band, a second y axis or stacked panels."""
from __future__ import annotations

import random

from . import _text
from ._common import (
    LEGEND_PLACES,
    colors,
    figure_size,
    grid_line,
    line_style,
    line_width,
    num,
    num_list,
    panel_size,
    str_list,
    style_sheet,
    text,
    variant,
)

NAME = "line_chart"
MARKER_CHOICES = ("o", "s", "^", "D", "v", "x", "*", "p", "h", "")


def _walk(rng: random.Random, q: _text.Quantity, count: int) -> list[float]:
    """A random walk that stays inside q's typical range."""
    span = q.high - q.low
    level = rng.uniform(q.low + 0.2 * span, q.high - 0.2 * span)
    values = []
    for _ in range(count):
        level = min(q.high, max(q.low, level + rng.uniform(-0.12, 0.12) * span))
        values.append(level)
    return values


def _x_axis(rng: random.Random) -> tuple[str, str, int]:
    """(the x values' assignment, the x label, the number of points)."""
    kind = rng.choice(("months", "years", "quantity", "quantity"))
    if kind == "months":
        count = rng.randint(5, 12)
        months = _text.MONTHS if rng.random() < 0.8 else _text.LONG_MONTHS
        return f"x_values = {str_list(months[:count])}\n", rng.choice(("Month", "", "Month of the year")), count
    if kind == "years":
        count = rng.randint(5, 14)
        start = rng.randint(1990, 2024 - count)
        return f"x_values = list(range({start}, {start + count}))\n", "Year", count
    q = _text.ordered(rng)
    count = rng.randint(6, 16)
    low = q.low
    step = (q.high - q.low) / (count - 1)
    return (f"x_values = np.linspace({num(low)}, {num(low + step * (count - 1))}, {count})\n",
            _text.axis_label(rng, q), count)


def _single(rng: random.Random) -> str:
    q = _text.quantity(rng)
    x_code, x_label, count = _x_axis(rng)
    series = _text.labels(rng, rng.choice((1, 2, 2, 3, 3, 4, 5)))
    digits = _text.digits_for(q)
    rows = "\n".join(f"    {text(name)}: {num_list(_walk(rng, q, count), digits)}," for name in series)
    markers = [rng.choice(MARKER_CHOICES) for _ in series]
    styles = [line_style(rng, 0.7) for _ in series]
    shade = len(series) == 1 and rng.random() < 0.4
    values_name = _text.identifier(q.name)
    band_value = band = ""
    if shade:  # a band of plus or minus band_width around the one series, named in the legend
        band_value = f"band_width = {num(rng.choice((0.05, 0.1, 0.15)) * (q.high - q.low), digits)}\n"
        band = ("    ax.fill_between(x_values, np.array(values) - band_width, np.array(values) + band_width,\n"
                '                    color=color, alpha=0.2, label=f"± {band_width}")\n')
    legend = ""
    if len(series) > 1 or shade:
        legend = rng.choice((f"ax.legend(loc={text(rng.choice(LEGEND_PLACES))})\n",
                             f"ax.legend(loc={text(rng.choice(LEGEND_PLACES))}, fontsize=8, frameon=False)\n",
                             'ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)\n'))
    x_ticks = 'plt.setp(ax.get_xticklabels(), rotation=45, ha="right")\n' if "January" in x_code else ""
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}{x_code}{values_name} = {{
{rows}
}}
line_colors = {str_list(colors(rng, len(series)))}
markers = {str_list(markers)}
line_styles = {str_list(styles)}
line_width = {line_width(rng)}
{band_value}
fig, ax = plt.subplots(figsize={figure_size(rng)})
for (name, values), color, marker, style in zip({values_name}.items(), line_colors, markers, line_styles):
    ax.plot(x_values, values, marker=marker, linestyle=style, color=color, linewidth=line_width, label=name)
{band}
ax.set_xlabel({text(x_label)})
ax.set_ylabel({text(_text.axis_label(rng, q))})
ax.set_title({text(_text.caption_number(rng) + _text.title(rng, q))})
{grid_line(rng)}{legend}{x_ticks}plt.tight_layout()
plt.show()
'''


def _twin_axes(rng: random.Random) -> str:
    """Two quantities over the same x, the second on its own y axis at the right."""
    left, right = _text.quantities(rng, 2)
    x_code, x_label, count = _x_axis(rng)
    left_color, right_color = colors(rng, 2)
    left_values = num_list(_walk(rng, left, count), _text.digits_for(left))
    right_values = num_list(_walk(rng, right, count), _text.digits_for(right))
    return f'''import numpy as np
import matplotlib.pyplot as plt

{x_code}{_text.identifier(left.name)} = {left_values}
{_text.identifier(right.name)}_right = {right_values}
left_color, right_color = "{left_color}", "{right_color}"

fig, ax = plt.subplots(figsize={figure_size(rng)})
ax.plot(x_values, {_text.identifier(left.name)}, color=left_color, marker="{rng.choice(MARKER_CHOICES[:-1])}")
ax.set_xlabel({text(x_label)})
ax.set_ylabel({text(_text.axis_label(rng, left))}, color=left_color)
ax.tick_params(axis="y", labelcolor=left_color)

right_ax = ax.twinx()
right_ax.plot(x_values, {_text.identifier(right.name)}_right, color=right_color, linestyle="{line_style(rng, 0.3)}",
              marker="{rng.choice(MARKER_CHOICES[:-1])}")
right_ax.set_ylabel({text(_text.axis_label(rng, right))}, color=right_color)
right_ax.tick_params(axis="y", labelcolor=right_color)
ax.set_title({text(f"{left.name} and {right.lower}")})
fig.tight_layout()
plt.show()
'''


def _stacked_panels(rng: random.Random) -> str:
    """Two or three quantities over a shared x, one panel each, stacked."""
    count_panels = rng.choice((2, 3))
    chosen = _text.quantities(rng, count_panels)
    x_code, x_label, count = _x_axis(rng)
    rows = "\n".join(
        f"    {text(_text.axis_label(rng, q))}: {num_list(_walk(rng, q, count), _text.digits_for(q))},"
        for q in chosen)
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}{x_code}panels = {{
{rows}
}}
panel_colors = {str_list(colors(rng, count_panels))}
line_width = {line_width(rng)}

fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize={panel_size(rng, count_panels, 1)})
for ax, (label, values), color in zip(axes, panels.items(), panel_colors):
    ax.plot(x_values, values, color=color, linewidth=line_width, marker="{rng.choice(MARKER_CHOICES)}")
    ax.set_ylabel(label, fontsize=9)
    ax.grid(True, alpha=0.3)
axes[0].set_title({text(_text.caption_number(rng) + rng.choice(_text.PLACES) + " " + _text.made_up_name(rng)
                        + rng.choice((" record", " log", " readings", " time series")))})
axes[-1].set_xlabel({text(x_label)})
fig.tight_layout()
plt.show()
'''


def program(rng: random.Random) -> str:
    return variant(rng, ((0.15, _twin_axes), (0.3, _stacked_panels)), otherwise=_single)
