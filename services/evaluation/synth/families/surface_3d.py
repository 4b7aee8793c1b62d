"""3-D surfaces: z = f(x, y) as a shaded surface with a colour bar."""
from __future__ import annotations

import random

NAME = "surface_3d"
SURFACES = {
    "paraboloid": ("z = x^2 + y^2", "x ** 2 + y ** 2"),
    "saddle": ("z = x^2 - y^2", "x ** 2 - y ** 2"),
    "ripple": ("z = sin(r) / r", "np.sinc(np.hypot(x, y) / np.pi)"),
    "gaussian": ("z = exp(-(x^2 + y^2) / 2)", "np.exp(-(x ** 2 + y ** 2) / 2)"),
}
COLORMAPS = ("viridis", "plasma", "coolwarm", "cividis")


def program(rng: random.Random) -> str:
    name = rng.choice(sorted(SURFACES))
    formula, expression = SURFACES[name]
    half_width = rng.choice((2, 3, 4)) if name != "ripple" else rng.choice((8, 10, 12))
    return f'''import numpy as np
import matplotlib.pyplot as plt

half_width = {half_width}
grid_points = {rng.choice((40, 50, 60))}
colormap = "{rng.choice(COLORMAPS)}"
elevation, azimuth = {rng.choice((20, 30, 40))}, {rng.choice((-60, -45, 30, 120))}

x, y = np.meshgrid(np.linspace(-half_width, half_width, grid_points),
                   np.linspace(-half_width, half_width, grid_points))
z = {expression}

fig = plt.figure(figsize=(7, 5.5))
ax = fig.add_subplot(projection="3d")
surface = ax.plot_surface(x, y, z, cmap=colormap, edgecolor="none")
fig.colorbar(surface, ax=ax, shrink=0.6, label="z")
ax.view_init(elev=elevation, azim=azimuth)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_zlabel("z")
ax.set_title("The {name} ${formula}$")
plt.show()
'''
