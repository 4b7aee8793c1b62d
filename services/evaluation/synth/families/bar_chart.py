"""Bar charts: one or two groups of bars over named categories, each bar labelled with its value."""
from __future__ import annotations

import random

from ._common import CATEGORY_WORDS, colors, figure_size, num_list, str_list

NAME = "bar_chart"


def program(rng: random.Random) -> str:
    categories = rng.sample(CATEGORY_WORDS, rng.randint(3, 6))
    years = sorted(rng.sample(range(2018, 2025), rng.randint(1, 2)))
    series = "\n".join(f"    \"{year}\": {num_list(rng.randint(5, 60) for _ in categories)}," for year in years)
    palette = colors(rng, len(years))
    return f'''import numpy as np
import matplotlib.pyplot as plt

categories = {str_list(categories)}
harvest_tonnes = {{
{series}
}}
bar_colors = {str_list(palette)}
group_width = 0.8
headroom = 1.15  # space above the tallest bar for its label

positions = np.arange(len(categories))
bar_width = group_width / len(harvest_tonnes)
fig, ax = plt.subplots(figsize={figure_size(rng)})
for offset, ((year, values), color) in enumerate(zip(harvest_tonnes.items(), bar_colors)):
    shift = (offset - (len(harvest_tonnes) - 1) / 2) * bar_width
    bars = ax.bar(positions + shift, values, bar_width, label=year, color=color)
    ax.bar_label(bars, padding=2)

ax.set_xticks(positions, categories)
ax.set_ylabel("Harvest (tonnes)")
ax.set_title("Fruit harvest by kind")
ax.legend(title="Year")
ax.set_ylim(0, max(max(v) for v in harvest_tonnes.values()) * headroom)
plt.tight_layout()
plt.show()
'''
