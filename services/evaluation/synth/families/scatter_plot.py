"""Scatter plots: measured points with their least-squares line and its equation."""
from __future__ import annotations

import random

from ._common import colors, figure_size, num_list

NAME = "scatter_plot"


def program(rng: random.Random) -> str:
    count = rng.randint(8, 20)
    slope, intercept, noise = rng.uniform(-2, 3), rng.uniform(-5, 10), rng.uniform(0.5, 3)
    hours = sorted(round(rng.uniform(0, 10), 1) for _ in range(count))
    scores = [intercept + slope * h + rng.gauss(0, noise) for h in hours]
    point_color, fit_color = colors(rng, 2)
    return f'''import numpy as np
import matplotlib.pyplot as plt

study_hours = np.array({num_list(hours, 1)})
test_score = np.array({num_list(scores, 1)})
point_color, fit_color = "{point_color}", "{fit_color}"

slope, intercept = np.polyfit(study_hours, test_score, deg=1)
fit_x = np.linspace(study_hours.min(), study_hours.max(), 100)

fig, ax = plt.subplots(figsize={figure_size(rng)})
ax.scatter(study_hours, test_score, color=point_color, edgecolor="black", s=40, label="students")
ax.plot(fit_x, slope * fit_x + intercept, color=fit_color, linestyle="--",
        label=f"fit: y = {{slope:.2f}}x + {{intercept:.2f}}")
ax.set_xlabel("Study time (h)")
ax.set_ylabel("Score")
ax.set_title("Score against study time")
ax.legend()
plt.tight_layout()
plt.show()
'''
