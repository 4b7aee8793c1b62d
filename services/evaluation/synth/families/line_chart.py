"""Line charts: one to three measured series over months, with markers and a legend."""
from __future__ import annotations

import random

from ._common import SERIES_NAMES, colors, figure_size, num_list, str_list

NAME = "line_chart"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def program(rng: random.Random) -> str:
    month_count = rng.randint(5, 12)
    names = SERIES_NAMES[:rng.randint(1, 3)]
    lines = []
    for name in names:
        level = rng.uniform(10, 25)
        values = []
        for _ in range(month_count):
            level += rng.uniform(-3, 3)
            values.append(level)
        lines.append(f"    \"{name}\": {num_list(values, 1)},")
    markers = rng.sample(("o", "s", "^", "D"), len(names))
    series = "\n".join(lines)
    return f'''import matplotlib.pyplot as plt

months = {str_list(MONTHS[:month_count])}
temperature_c = {{
{series}
}}
line_colors = {str_list(colors(rng, len(names)))}
markers = {str_list(markers)}

fig, ax = plt.subplots(figsize={figure_size(rng)})
for (sensor, readings), color, marker in zip(temperature_c.items(), line_colors, markers):
    ax.plot(months, readings, marker=marker, color=color, linewidth=1.8, label=sensor)

ax.set_xlabel("Month")
ax.set_ylabel("Mean temperature (°C)")
ax.set_title("Monthly mean temperature")
ax.grid(True, alpha=0.3)
ax.legend()
plt.tight_layout()
plt.show()
'''
