"""3-D solids: a stack of unit cubes, a pyramid or a prism from its vertices and faces, a cuboid with its
edges labelled, or a cylinder, cone or sphere as a parametric surface; seen from varied angles."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, num, text, variant

NAME = "solid_3d"


def _stack(rng: random.Random) -> str:
    depth, width = rng.randint(2, 3), rng.randint(2, 4)
    heights = [[rng.randint(0, 3) for _ in range(width)] for _ in range(depth)]
    heights[0][0] = max(heights[0][0], 1)
    rows = "\n".join(f"    {row}," for row in heights)
    face, edge = colors(rng, 2)
    prefix = _text.exercise_prefix(rng)
    title = rng.choice((f'f"{prefix}A stack of {{column_heights.sum()}} unit cubes"',
                        text(prefix + "How many cubes are in the stack?"),
                        f'f"{prefix}Cubes on a {{column_heights.shape[1]}}×{{column_heights.shape[0]}} base"',
                        text(prefix + "Count the unit cubes")))
    return f'''import numpy as np
import matplotlib.pyplot as plt

# How many unit cubes stand on each cell of the base (rows run along y).
column_heights = np.array([
{rows}
])
face_color, edge_color = "{face}", "{edge}"

filled = np.zeros((*column_heights.T.shape, column_heights.max()), dtype=bool)
for (x, y), height in np.ndenumerate(column_heights.T):
    filled[x, y, :height] = True

fig = plt.figure(figsize={figure_size(rng, "square")})
ax = fig.add_subplot(projection="3d")
ax.voxels(filled, facecolors=face_color, edgecolors=edge_color)
ax.set_box_aspect(filled.shape)
ax.view_init(elev={rng.choice((20, 25, 30, 35))}, azim={rng.choice((-60, -45, -30, 30, 45, 120))})
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_zlabel("z")
ax.set_title({title})
plt.show()
'''


def _polyhedron(rng: random.Random) -> str:
    kind = rng.choice(("pyramid", "prism"))
    sides = rng.randint(3, 6)
    height = rng.choice((1.5, 2, 2.5, 3))
    face, edge = colors(rng, 2)
    if kind == "pyramid":
        solid = '''apex = np.array([0, 0, height])
faces = [base] + [[base[i], base[(i + 1) % base_sides], apex] for i in range(base_sides)]
vertex_count = base_sides + 1'''
    else:
        solid = '''top = base + np.array([0, 0, height])
faces = [base, top] + [[base[i], base[(i + 1) % base_sides], top[(i + 1) % base_sides], top[i]]
                       for i in range(base_sides)]
vertex_count = 2 * base_sides'''
    return f'''import numpy as np
import matplotlib.pyplot as plt
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

base_sides = {sides}
base_radius = 1.0
height = {height}
face_color, edge_color = "{face}", "{edge}"
face_opacity = {num(rng.choice((0.4, 0.5, 0.6, 0.8)))}

angles = np.linspace(0, 2 * np.pi, base_sides, endpoint=False)
base = np.column_stack([base_radius * np.cos(angles), base_radius * np.sin(angles), np.zeros(base_sides)])
{solid}

fig = plt.figure(figsize={figure_size(rng, "square")})
ax = fig.add_subplot(projection="3d")
ax.add_collection3d(Poly3DCollection(faces, facecolors=face_color, edgecolors=edge_color, alpha=face_opacity))
ax.view_init(elev={rng.choice((15, 20, 30, 40))}, azim={rng.choice((-60, -30, 20, 45, 70))})
ax.set_xlim(-base_radius, base_radius)
ax.set_ylim(-base_radius, base_radius)
ax.set_zlim(0, height)
ax.set_box_aspect((2 * base_radius, 2 * base_radius, height))
ax.set_title(f"{_text.exercise_prefix(rng)}A {kind} on a {{base_sides}}-sided base: {{len(faces)}} faces, "
             f"{{vertex_count}} vertices")
plt.show()
'''


def _cuboid(rng: random.Random) -> str:
    length, width, height = rng.randint(2, 8), rng.randint(1, 6), rng.randint(1, 5)
    unit = rng.choice(("cm", "m", "mm", "in"))
    face, edge, label_color = colors(rng, 3)
    return f'''import itertools

import numpy as np
import matplotlib.pyplot as plt
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

length, width, height = {length}, {width}, {height}
unit = "{unit}"
face_color, edge_color, label_color = "{face}", "{edge}", "{label_color}"

corners = np.array(list(itertools.product([0, length], [0, width], [0, height])))
faces = [[corners[i] for i in face] for face in
         ([0, 1, 3, 2], [4, 5, 7, 6], [0, 1, 5, 4], [2, 3, 7, 6], [0, 2, 6, 4], [1, 3, 7, 5])]

fig = plt.figure(figsize={figure_size(rng, rng.choice(("square", "wide")))})
ax = fig.add_subplot(projection="3d")
ax.add_collection3d(Poly3DCollection(faces, facecolors=face_color, edgecolors=edge_color,
                                     alpha={num(rng.choice((0.3, 0.5, 0.7)))}))
ax.text(length / 2, -0.6, 0, f"{{length}} {{unit}}", color=label_color, ha="center")
ax.text(length + 0.4, width / 2, 0, f"{{width}} {{unit}}", color=label_color, ha="left")
ax.text(length + 0.4, 0, height / 2, f"{{height}} {{unit}}", color=label_color, ha="left")
ax.set_xlim(0, length)
ax.set_ylim(0, width)
ax.set_zlim(0, height)
ax.set_box_aspect((length, width, height))
ax.view_init(elev={rng.choice((15, 20, 25, 30))}, azim={rng.choice((-70, -60, -45, -30))})
ax.set_title({rng.choice(('f"Volume {length * width * height} {unit}³"', '"Find the volume of the cuboid"',
                          'f"Surface area {2 * (length * width + width * height + length * height)} {unit}²"',
                          'f"A {length} × {width} × {height} box"'))})
plt.show()
'''


def _round(rng: random.Random) -> str:
    kind = rng.choice(("cylinder", "cone", "sphere"))
    radius, height = rng.choice((1, 1.5, 2, 2.5, 3)), rng.choice((2, 3, 4, 5))
    colormap = rng.choice(("Blues", "Greens", "Oranges", "viridis", "coolwarm", "copper", "bone"))
    surfaces = {
        "cylinder": ("x = radius * np.cos(angle)\ny = radius * np.sin(angle)\nz = height * along",
                     "np.pi * radius ** 2 * height"),
        "cone": ("x = radius * (1 - along) * np.cos(angle)\ny = radius * (1 - along) * np.sin(angle)\n"
                 "z = height * along", "np.pi * radius ** 2 * height / 3"),
        "sphere": ("x = radius * np.sin(np.pi * along) * np.cos(angle)\n"
                   "y = radius * np.sin(np.pi * along) * np.sin(angle)\nz = radius * np.cos(np.pi * along)",
                   "4 / 3 * np.pi * radius ** 3"),
    }
    coordinates, volume = surfaces[kind]
    height_line = "" if kind == "sphere" else f"height = {height}\n"
    edge = rng.choice(("none", "gray", "black"))
    return f'''import numpy as np
import matplotlib.pyplot as plt

radius = {num(radius)}
{height_line}colormap = "{colormap}"

# The {kind} as a surface over (angle around its axis, position along it).
angle, along = np.meshgrid(np.linspace(0, 2 * np.pi, {rng.choice((40, 60))}), np.linspace(0, 1, {rng.choice((20, 30))}))
{coordinates}
volume = {volume}

fig = plt.figure(figsize={figure_size(rng, "square")})
ax = fig.add_subplot(projection="3d")
ax.plot_surface(x, y, z, cmap=colormap, edgecolor="{edge}", linewidth=0.2, alpha=0.9)
ax.set_box_aspect((np.ptp(x), np.ptp(y), np.ptp(z)))
ax.view_init(elev={rng.choice((15, 20, 30))}, azim={rng.choice((-60, -30, 30))})
ax.set_title(f"{_text.exercise_prefix(rng)}{kind.capitalize()}: r = {{radius}}, "
             f"volume {{volume:.{rng.choice((1, 2))}f}}")
plt.show()
'''


def program(rng: random.Random) -> str:
    return variant(rng, ((0.35, _stack), (0.6, _polyhedron), (0.8, _cuboid)), otherwise=_round)
