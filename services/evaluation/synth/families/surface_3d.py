"""3-D surfaces: z = f(x, y) as a shaded surface (with a colour bar), a wireframe, or a surface with its
contours projected below; some beside a top view as a filled contour plot."""
from __future__ import annotations

import random

from . import _text
from ._common import COLORMAPS, colors, figure_size, num, text

NAME = "surface_3d"
SURFACES = {
    "paraboloid": ("z = x^2 + y^2", "x ** 2 + y ** 2", (2, 3, 4)),
    "saddle": ("z = x^2 - y^2", "x ** 2 - y ** 2", (2, 3, 4)),
    "ripple": (r"z = \sin(r) / r", "np.sinc(np.hypot(x, y) / np.pi)", (8, 10, 12)),
    "gaussian": ("z = e^{-(x^2 + y^2) / 2}", "np.exp(-(x ** 2 + y ** 2) / 2)", (2, 3, 4)),
    "wave": (r"z = \sin(x) \cos(y)", "np.sin(x) * np.cos(y)", (3, 4, 6)),
    "monkey saddle": ("z = x^3 - 3xy^2", "x ** 3 - 3 * x * y ** 2", (1.5, 2)),
    "cone": (r"z = \sqrt{x^2 + y^2}", "np.hypot(x, y)", (2, 3)),
    "two peaks": ("z = e^{-(x-1)^2 - y^2} + e^{-(x+1)^2 - y^2}",
                  "np.exp(-(x - 1) ** 2 - y ** 2) + np.exp(-(x + 1) ** 2 - y ** 2)", (2.5, 3)),
    "plane": ("z = 2x - y + 1", "2 * x - y + 1", (2, 3, 5)),
}


def _labels(rng: random.Random) -> tuple[str, str, str]:
    if rng.random() < 0.6:
        return rng.choice((("x", "y", "z"), ("$x$", "$y$", "$z$"), ("x", "y", "f(x, y)")))
    z = _text.quantity(rng)
    unit = rng.choice(("m", "cm", "km", "mm"))
    return f"x ({unit})", f"y ({unit})", _text.axis_label(rng, z)


def program(rng: random.Random) -> str:
    name = rng.choice(sorted(SURFACES))
    formula, expression, widths = SURFACES[name]
    style = rng.choice(("surface", "surface", "wireframe", "projected", "with_top_view"))
    x_label, y_label, z_label = _labels(rng)
    colormap = rng.choice(COLORMAPS)
    points = rng.choice((30, 40, 50, 60))
    elevation, azimuth = rng.choice((15, 20, 30, 40, 55)), rng.choice((-135, -60, -45, 30, 60, 120))
    title = rng.choice((f"The {name} ${formula}$", f"${formula}$", f"Surface plot of the {name}",
                        f"{name.capitalize()} over a {points}×{points} grid"))
    if style == "surface":
        bar = rng.random() < 0.7
        drawing = (f'surface = ax.plot_surface(x, y, z, cmap=colormap, edgecolor="none", '
                   f"alpha={num(rng.choice((1, 0.9, 0.8)))})\n"
                   + (f"fig.colorbar(surface, ax=ax, shrink={num(rng.choice((0.5, 0.6, 0.7)))}, "
                      f"label={text(z_label)})\n" if bar else ""))
        figure = "fig = plt.figure(figsize={})\nax = fig.add_subplot(projection=\"3d\")\n"
    elif style == "wireframe":
        drawing = (f'ax.plot_wireframe(x, y, z, rstride={rng.choice((2, 3, 4))}, cstride={rng.choice((2, 3, 4))}, '
                   f'color="{colors(rng, 1)[0]}", linewidth={num(rng.choice((0.5, 0.8, 1)))})\n')
        figure = "fig = plt.figure(figsize={})\nax = fig.add_subplot(projection=\"3d\")\n"
    elif style == "projected":
        drawing = ('ax.plot_surface(x, y, z, cmap=colormap, edgecolor="none", alpha=0.8)\n'
                   "floor = z.min() - 0.5 * (z.max() - z.min())\n"
                   f'ax.contour(x, y, z, zdir="z", offset=floor, levels={rng.choice((8, 10, 12))}, cmap=colormap)\n'
                   "ax.set_zlim(floor, z.max())\n")
        figure = "fig = plt.figure(figsize={})\nax = fig.add_subplot(projection=\"3d\")\n"
    else:
        drawing = ('ax.plot_surface(x, y, z, cmap=colormap, edgecolor="none")\n'
                   f"filled = top.contourf(x, y, z, levels={rng.choice((10, 12, 15, 20))}, cmap=colormap)\n"
                   f"fig.colorbar(filled, ax=top, label={text(z_label)})\n"
                   'top.set_aspect("equal")\n'
                   f"top.set_xlabel({text(x_label)})\n"
                   f"top.set_ylabel({text(y_label)})\n"
                   f"top.set_title({text(rng.choice(('Top view', 'Seen from above', 'Contours')))})\n")
        figure = ("fig = plt.figure(figsize={})\n"
                  'ax = fig.add_subplot(1, 2, 1, projection="3d")\n'
                  "top = fig.add_subplot(1, 2, 2)\n")
    size = figure_size(rng, "wide") if style != "with_top_view" else rng.choice(("(11, 4.5)", "(12, 5)", "(10, 4)"))
    return f'''import numpy as np
import matplotlib.pyplot as plt

half_width = {num(rng.choice(widths))}
grid_points = {points}
colormap = "{colormap}"
elevation, azimuth = {elevation}, {azimuth}

x, y = np.meshgrid(np.linspace(-half_width, half_width, grid_points),
                   np.linspace(-half_width, half_width, grid_points))
z = {expression}

{figure.format(size)}{drawing}ax.view_init(elev=elevation, azim=azimuth)
ax.set_xlabel({text(x_label)})
ax.set_ylabel({text(y_label)})
ax.set_zlabel({text(z_label)})
ax.set_title({text(_text.caption_number(rng) + title)})
plt.show()
'''
