"""Box plots: three to seven groups of measurements from a seeded generator, vertical or horizontal,
filled or plain, notched or not, some with means, jittered points or violins beside the boxes."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, grid_line, num, str_list, style_sheet, text

NAME = "box_plot"


def program(rng: random.Random) -> str:
    q = _text.quantity(rng)
    groups = _text.labels(rng, rng.randint(3, 7))
    span = q.high - q.low
    digits = _text.digits_for(q)
    lines = []
    for name in groups:
        centre = q.low + span * rng.uniform(0.3, 0.7)
        spread = span * rng.uniform(0.05, 0.15)
        size = rng.choice((20, 30, 40, 50, 80))
        lines.append(f"    {text(name)}: generator.normal({num(centre, digits)}, {num(spread, digits + 1)}, {size}),")
    kind = rng.choice(("box", "box", "box", "violin", "box_points"))
    horizontal = rng.random() < 0.3
    filled = rng.random() < 0.6
    notch = rng.random() < 0.25
    means = rng.random() < 0.35
    value_label = text(_text.axis_label(rng, q))
    group_label = text(rng.choice(("", "Group", rng.choice(_text.PLACES), "Condition", "Treatment")))
    if horizontal:
        axis_labels = f"ax.set_xlabel({value_label})\nax.set_ylabel({group_label})\n"
    else:
        axis_labels = f"ax.set_ylabel({value_label})\nax.set_xlabel({group_label})\n"
    orientation = ', orientation="horizontal"' if horizontal else ""
    if kind == "violin":
        drawing = f'''parts = ax.violinplot(list(measurements.values()), showmedians=True{orientation})
for body, color in zip(parts["bodies"], box_colors):
    body.set_facecolor(color)
    body.set_edgecolor("black")
    body.set_alpha({num(rng.choice((0.5, 0.6, 0.7)))})
ax.{"set_yticks" if horizontal else "set_xticks"}(range(1, len(measurements) + 1), list(measurements))
'''
    else:
        width = num(rng.choice((0.4, 0.5, 0.6, 0.7)))
        drawing = f'''boxes = ax.boxplot(list(measurements.values()), tick_labels=list(measurements),
                   patch_artist={filled}, notch={notch}, showmeans={means}, widths={width}{orientation})
'''
        if filled:
            drawing += f'''for box, color in zip(boxes["boxes"], box_colors):
    box.set_facecolor(color)
    box.set_alpha({num(rng.choice((0.6, 0.8, 1)))})
'''
        drawing += f'''for median in boxes["medians"]:
    median.set_color("{rng.choice(("black", "white", "firebrick", "navy"))}")
'''
        if kind == "box_points":
            jitter_axis = ("values, position + jitter" if horizontal else "position + jitter, values")
            drawing += f'''for position, values in enumerate(measurements.values(), start=1):
    jitter = generator.uniform(-0.12, 0.12, len(values))
    ax.scatter({jitter_axis}, s=8, color="black", alpha=0.4, zorder=3)
'''
    rotate = ""
    if not horizontal and max(len(g) for g in groups) > 8:
        rotate = 'plt.setp(ax.get_xticklabels(), rotation=30, ha="right")\n'
    title = _text.caption_number(rng) + rng.choice((
        _text.title(rng, q, group=rng.choice(_text.PLACES).lower()), f"Spread of {q.lower} by group",
        f"{q.name} in {len(groups)} groups", f"{q.name}: medians and quartiles"))
    return f'''import numpy as np
import matplotlib.pyplot as plt

{style_sheet(rng)}generator = np.random.default_rng({rng.randint(0, 9999)})
measurements = {{
{chr(10).join(lines)}
}}
box_colors = {str_list(colors(rng, len(groups)))}

fig, ax = plt.subplots(figsize={figure_size(rng, "tall" if horizontal and len(groups) > 5 else "wide")})
{drawing}{axis_labels}ax.set_title({text(title)})
{rotate}{grid_line(rng)}plt.tight_layout()
plt.show()
'''
