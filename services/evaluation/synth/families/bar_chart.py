"""Bar charts: one to four series over named categories, grouped or stacked, vertical or horizontal,
some with value labels or error bars, some as two panels."""
from __future__ import annotations

import random

from . import _text
from ._common import (
    LEGEND_PLACES,
    colors,
    figure_size,
    grid_line,
    num,
    num_list,
    panel_size,
    str_list,
    style_sheet,
    text,
)

NAME = "bar_chart"


def _series_names(rng: random.Random, count: int) -> list[str]:
    if rng.random() < 0.4:
        return [str(year) for year in sorted(rng.sample(range(1995, 2026), count))]
    return _text.labels(rng, count)


def _values(rng: random.Random, q: _text.Quantity, count: int) -> list[float]:
    low = max(q.low, 0) if q.low >= 0 else 0
    return [round(rng.uniform(low + (q.high - low) * 0.1, q.high), _text.digits_for(q)) for _ in range(count)]


def _one_axes(rng: random.Random) -> str:
    q = _text.quantity(rng)
    categories = _text.labels(rng, rng.randint(3, 7))
    series = _series_names(rng, rng.choice((1, 1, 2, 2, 3, 4)))
    horizontal = rng.random() < 0.3
    stacked = len(series) > 1 and rng.random() < 0.35
    values_name = _text.identifier(q.name)
    digits = _text.digits_for(q)
    rows = "\n".join(f"    {text(name)}: {num_list(_values(rng, q, len(categories)), digits)}," for name in series)
    bar, span, ticks, value_axis = (("barh", "left", "set_yticks", "set_xlabel") if horizontal
                                    else ("bar", "bottom", "set_xticks", "set_ylabel"))
    edge = rng.choice(('"black"', '"white"', "None", "None"))
    labelled = rng.random() < 0.5
    fmt = f'"%.{digits}f"'
    if stacked:
        drawing = f'''stacked_to = np.zeros(len(categories))
for (name, values), color in zip({values_name}.items(), bar_colors):
    bars = ax.{bar}(positions, values, bar_size, {span}=stacked_to, label=name, color=color, edgecolor={edge})
{f"    ax.bar_label(bars, label_type='center', fmt={fmt}, fontsize=8)" + chr(10) if labelled else ""}\
    stacked_to += values
'''
    else:
        drawing = f'''bar_size = group_width / len({values_name})
for offset, ((name, values), color) in enumerate(zip({values_name}.items(), bar_colors)):
    shift = (offset - (len({values_name}) - 1) / 2) * bar_size
    bars = ax.{bar}(positions + shift, values, bar_size, label=name, color=color, edgecolor={edge})
{f"    ax.bar_label(bars, padding=2, fmt={fmt}, fontsize=8)" + chr(10) if labelled else ""}'''
    legend = ""
    if len(series) > 1:
        legend_title = rng.choice(("", "Year" if series[0].isdigit() else rng.choice(_text.PLACES)))
        legend = (f"ax.legend(title={text(legend_title)}, loc={text(rng.choice(LEGEND_PLACES))}"
                  f"{', ncol=2' if len(series) > 2 and rng.random() < 0.5 else ''})\n")
    rotate = ""
    if not horizontal and max(len(c) for c in categories) > 7:
        rotate = 'plt.setp(ax.get_xticklabels(), rotation=30, ha="right")\n'
    group_title = _text.title(rng, q, group=rng.choice(_text.PLACES).lower())
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}categories = {str_list(categories)}
{values_name} = {{
{rows}
}}
bar_colors = {str_list(colors(rng, len(series)))}
group_width = {num(rng.choice((0.6, 0.7, 0.8, 0.85)))}
value_label = {text(_text.axis_label(rng, q))}
title = {text(_text.caption_number(rng) + group_title)}

positions = np.arange(len(categories))
{"bar_size = group_width" + chr(10) if stacked else ""}\
fig, ax = plt.subplots(figsize={figure_size(rng, "tall" if horizontal and len(categories) > 5 else "wide")})
{drawing}ax.{ticks}(positions, categories)
ax.{value_axis}(value_label)
ax.set_title(title)
{legend}{rotate}{grid_line(rng)}plt.tight_layout()
plt.show()
'''


def _two_panels(rng: random.Random) -> str:
    """Two quantities of the same categories, one panel each."""
    first, second = _text.quantities(rng, 2)
    categories = _text.labels(rng, rng.randint(3, 6))
    rows = "\n".join(
        f"    {text(_text.axis_label(rng, q))}: {num_list(_values(rng, q, len(categories)), _text.digits_for(q))},"
        for q in (first, second))
    rows_layout = rng.random() < 0.3
    layout = "2, 1" if rows_layout else "1, 2"
    size = panel_size(rng, 2, 1) if rows_layout else panel_size(rng, 1, 2)
    return f'''import matplotlib.pyplot as plt

{style_sheet(rng)}categories = {str_list(categories)}
measurements = {{
{rows}
}}
panel_colors = {str_list(colors(rng, 2))}
panel_titles = {str_list([_text.title(rng, first), _text.title(rng, second)])}
suptitle = {text(rng.choice(_text.PLACES) + " " + rng.choice(("survey", "report", "summary", "comparison")))}

fig, axes = plt.subplots({layout}, figsize={size})
for ax, (label, values), color, panel_title in zip(axes, measurements.items(), panel_colors, panel_titles):
    bars = ax.bar(categories, values, color=color, edgecolor="black", linewidth=0.6)
    ax.bar_label(bars, padding=2, fontsize=7)
    ax.set_ylabel(label)
    ax.set_title(panel_title, fontsize=10)
    ax.margins(y=0.15)
    ax.tick_params(axis="x", labelrotation={rng.choice((0, 20, 45))})
fig.suptitle(suptitle)
plt.tight_layout()
plt.show()
'''


def program(rng: random.Random) -> str:
    return _two_panels(rng) if rng.random() < 0.2 else _one_axes(rng)
