"""Vector fields: a 2-D field (rotation, source, sink, saddle, shear, a vortex in a stream, the field of
an electric dipole) as a quiver of arrows, coloured by magnitude or plain, or as streamlines."""
from __future__ import annotations

import random

from . import _text
from ._common import SEQUENTIAL_COLORMAPS, colors, figure_size, num, text

NAME = "vector_field"
FIELDS = {
    "rotation": ("-y", "x", r"$\vec{F} = (-y, x)$"),
    "source": ("x", "y", r"$\vec{F} = (x, y)$"),
    "sink": ("-x", "-y", r"$\vec{F} = (-x, -y)$"),
    "saddle": ("x", "-y", r"$\vec{F} = (x, -y)$"),
    "shear": ("y", "np.zeros_like(x)", r"$\vec{F} = (y, 0)$"),
    "spiral": ("-y - 0.3 * x", "x - 0.3 * y", r"$\vec{F} = (-y - 0.3x,\ x - 0.3y)$"),
    "vortex in a stream": ("1 - y / (x ** 2 + y ** 2 + 0.5)", "x / (x ** 2 + y ** 2 + 0.5)",
                           "uniform flow plus a vortex"),
    "wave": ("np.sin(y)", "np.cos(x)", r"$\vec{F} = (\sin y, \cos x)$"),
}
DIPOLE = '''# Two opposite point charges at (-separation / 2, 0) and (+separation / 2, 0).
def charge_field(q, cx, cy):
    dx, dy = x - cx, y - cy
    r3 = np.maximum(np.hypot(dx, dy), 0.3) ** 3
    return q * dx / r3, q * dy / r3


u_plus, v_plus = charge_field(1, separation / 2, 0)
u_minus, v_minus = charge_field(-1, -separation / 2, 0)
u, v = u_plus + u_minus, v_plus + v_minus
'''


def program(rng: random.Random) -> str:
    dipole = rng.random() < 0.2
    style = rng.choice(("quiver", "quiver", "quiver_colour", "quiver_unit", "stream"))
    half = rng.choice((2, 2.5, 3, 4))
    points = rng.choice((11, 13, 15, 17, 21)) if style != "stream" else rng.choice((40, 60))
    if dipole:
        field_code = f"separation = {num(rng.choice((1, 1.5, 2)))}\n{DIPOLE}"
        title = rng.choice(("Electric field of a dipole", "Field lines of two opposite charges", "Dipole field"))
        marks = ('ax.plot(separation / 2, 0, "o", color="red", markersize=12)\n'
                 'ax.plot(-separation / 2, 0, "o", color="blue", markersize=12)\n'
                 'ax.text(separation / 2, -0.4, "+q", ha="center", va="top")\n'
                 'ax.text(-separation / 2, -0.4, "-q", ha="center", va="top")\n')
    else:
        name = rng.choice(sorted(FIELDS))
        u_code, v_code, formula = FIELDS[name]
        field_code = f"u = {u_code}\nv = {v_code}\n"
        title = rng.choice((f"The {name} field", formula, f"Vector field: {name}", f"{name.capitalize()} {formula}"
                            if formula.startswith("$") else f"{name.capitalize()}"))
        marks = ""
    arrow_color = colors(rng, 1)[0]
    colormap = rng.choice(SEQUENTIAL_COLORMAPS)
    if style == "stream":
        drawing = (f"lines = ax.streamplot(x, y, u, v, color=speed, cmap=colormap, "
                   f"density={num(rng.choice((0.8, 1, 1.5)))}, linewidth={num(rng.choice((0.8, 1, 1.2)))})\n"
                   f"fig.colorbar(lines.lines, ax=ax, label={text(rng.choice(('speed', '|F|', 'magnitude')))})\n")
    elif style == "quiver_colour":
        drawing = (f"arrows = ax.quiver(x, y, u, v, speed, cmap=colormap, pivot=\"{rng.choice(('tail', 'mid'))}\")\n"
                   f"fig.colorbar(arrows, ax=ax, label={text(rng.choice(('|F|', 'magnitude', 'field strength')))})\n")
    elif style == "quiver_unit":
        drawing = ("# Arrows of one length show the direction; their colour shows the strength.\n"
                   "safe = np.where(speed > 0, speed, 1)\n"
                   f"arrows = ax.quiver(x, y, u / safe, v / safe, speed, cmap=colormap, "
                   f"scale={rng.choice((20, 25, 30))})\n"
                   f"fig.colorbar(arrows, ax=ax, label={text(rng.choice(('|F|', 'magnitude')))})\n")
    else:
        drawing = (f'ax.quiver(x, y, u, v, color="{arrow_color}", angles="xy", '
                   f"width={num(rng.choice((0.003, 0.004, 0.005)), 3)})\n")
    x_label, y_label = rng.choice((("x", "y"), ("$x$", "$y$"), ("x (m)", "y (m)")))
    return f'''import numpy as np
import matplotlib.pyplot as plt

half_width = {num(half)}
grid_points = {points}
colormap = "{colormap}"

x, y = np.meshgrid(np.linspace(-half_width, half_width, grid_points), np.linspace(-half_width, half_width, grid_points))
{field_code}speed = np.hypot(u, v)

fig, ax = plt.subplots(figsize={figure_size(rng, "square")})
{drawing}{marks}ax.set_xlim(-half_width, half_width)
ax.set_ylim(-half_width, half_width)
ax.set_aspect("equal")
ax.set_xlabel({text(x_label)})
ax.set_ylabel({text(y_label)})
ax.set_title({text(_text.exercise_prefix(rng) + title)})
plt.tight_layout()
plt.show()
'''
