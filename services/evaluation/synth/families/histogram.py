"""Histograms: one to three samples drawn from a seeded generator (normal, exponential, uniform,
log-normal, gamma), as bars, steps or overlapping filled areas, some with the mean marked, a fitted
normal curve or a cumulative view; some as two panels."""
from __future__ import annotations

import random

from . import _text
from ._common import (
    LEGEND_PLACES,
    colors,
    figure_size,
    grid_line,
    num,
    panel_size,
    str_list,
    style_sheet,
    text,
)

NAME = "histogram"


def _distribution(rng: random.Random, q: _text.Quantity, size: int) -> str:
    """A numpy generator call for `size` values, scaled to q's typical range."""
    span = q.high - q.low
    centre = q.low + span * rng.uniform(0.35, 0.65)
    kind = rng.choice(("normal", "normal", "normal", "exponential", "uniform", "lognormal", "gamma"))
    if kind == "normal":
        return f"generator.normal({num(centre, 2)}, {num(span * rng.uniform(0.08, 0.2), 2)}, {size})"
    if kind == "exponential":
        return f"{num(q.low, 2)} + generator.exponential({num(span * rng.uniform(0.1, 0.3), 2)}, {size})"
    if kind == "uniform":
        return f"generator.uniform({num(q.low, 2)}, {num(q.high, 2)}, {size})"
    if kind == "lognormal":
        return (f"{num(q.low, 2)} + {num(span * 0.2, 2)} * generator.lognormal(0, {num(rng.uniform(0.3, 0.6), 2)}, "
                f"{size})")
    return (f"{num(q.low, 2)} + generator.gamma({rng.choice((2, 3, 5))}, {num(span * rng.uniform(0.04, 0.1), 2)}, "
            f"{size})")


def _one(rng: random.Random) -> str:
    q = _text.quantity(rng)
    groups = _text.labels(rng, rng.choice((1, 1, 1, 2, 2, 3)))
    sizes = [rng.choice((100, 150, 200, 300, 500, 1000)) for _ in groups]
    samples = "\n".join(f"    {text(name)}: {_distribution(rng, q, size)},"
                        for name, size in zip(groups, sizes, strict=True))
    histtype = rng.choice(("bar", "bar", "step", "stepfilled"))
    bins = rng.choice(("10", "15", "20", "25", "30", '"auto"'))
    density = rng.random() < 0.3
    cumulative = rng.random() < 0.1
    alpha = num(0.5 if len(groups) > 1 and histtype != "step" else rng.choice((0.7, 0.8, 1)))
    edge = rng.choice(('"black"', '"white"', "None")) if histtype != "step" else "None"
    mean_line = ""
    if len(groups) == 1 and rng.random() < 0.5:
        mean_line = (f'    ax.axvline(values.mean(), color="black", linestyle="--", linewidth=1.2,\n'
                     f'               label=f"mean {{values.mean():.{_text.digits_for(q)}f}}")\n')
    fit_line = ""
    if len(groups) == 1 and density and not cumulative and rng.random() < 0.6:
        fit_line = ('    grid = np.linspace(values.min(), values.max(), 200)\n'
                    '    normal_pdf = np.exp(-((grid - values.mean()) ** 2) / (2 * values.var())) / '
                    'np.sqrt(2 * np.pi * values.var())\n'
                    '    ax.plot(grid, normal_pdf, color="black", linewidth=1.5, label="normal fit")\n')
    legend = f"ax.legend(loc={text(rng.choice(LEGEND_PLACES))})\n" if len(groups) > 1 or mean_line or fit_line else ""
    if cumulative:
        y_label = "Cumulative share" if density else "Cumulative count"
    else:
        y_label = rng.choice(("Density", "Probability density") if density else ("Count", "Frequency", "Number"))
    title = _text.caption_number(rng) + rng.choice((
        f"Distribution of {q.lower}", f"Histogram of {q.lower}", _text.title(rng, q),
        f"{q.name}: {sum(sizes)} measurements"))
    orientation = rng.random() < 0.1
    value_label = text(_text.axis_label(rng, q))
    labels = (f"ax.set_xlabel({text(y_label)})\nax.set_ylabel({value_label})\n" if orientation
              else f"ax.set_xlabel({value_label})\nax.set_ylabel({text(y_label)})\n")
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}generator = np.random.default_rng({rng.randint(0, 9999)})
samples = {{
{samples}
}}
bar_colors = {str_list(colors(rng, len(groups)))}
bins = {bins}

fig, ax = plt.subplots(figsize={figure_size(rng)})
for (name, values), color in zip(samples.items(), bar_colors):
    ax.hist(values, bins=bins, histtype="{histtype}", color=color, alpha={alpha}, edgecolor={edge}, label=name,
            density={density}, cumulative={cumulative}{', orientation="horizontal"' if orientation else ''})
{mean_line}{fit_line}{labels}ax.set_title({text(title)})
{legend}{grid_line(rng)}plt.tight_layout()
plt.show()
'''


def _panels(rng: random.Random) -> str:
    """The same measurement in two or three groups, one panel each, on shared bins."""
    q = _text.quantity(rng)
    count = rng.choice((2, 2, 3))
    groups = _text.labels(rng, count)
    samples = "\n".join(f"    {text(name)}: {_distribution(rng, q, rng.choice((100, 200, 400)))},"
                        for name in groups)
    rows, cols = rng.choice(((1, count), (count, 1)))
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}generator = np.random.default_rng({rng.randint(0, 9999)})
samples = {{
{samples}
}}
panel_colors = {str_list(colors(rng, count))}
bin_count = {rng.choice((12, 15, 20, 25))}

everything = np.concatenate(list(samples.values()))
bins = np.linspace(everything.min(), everything.max(), bin_count + 1)
fig, axes = plt.subplots({rows}, {cols}, sharex=True, sharey=True, figsize={panel_size(rng, rows, cols)})
for ax, (name, values), color in zip(axes, samples.items(), panel_colors):
    ax.hist(values, bins=bins, color=color, edgecolor="black", linewidth=0.5)
    ax.set_title(f"{{name}} (n = {{len(values)}})", fontsize=10)
    ax.axvline(np.median(values), color="black", linestyle=":", linewidth=1)
axes[-1].set_xlabel({text(_text.axis_label(rng, q))})
axes[0].set_ylabel("Count")
fig.suptitle({text(_text.title(rng, q))})
fig.tight_layout()
plt.show()
'''


def program(rng: random.Random) -> str:
    return _panels(rng) if rng.random() < 0.2 else _one(rng)
