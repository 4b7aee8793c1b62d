"""3-D solids: a stack of unit cubes, a pyramid or a prism, drawn from their vertices and faces."""
from __future__ import annotations

import random

from ._common import colors

NAME = "solid_3d"


def _stack(rng: random.Random) -> str:
    depth, width = rng.randint(2, 3), rng.randint(2, 4)
    heights = [[rng.randint(0, 3) for _ in range(width)] for _ in range(depth)]
    heights[0][0] = max(heights[0][0], 1)
    rows = "\n".join(f"    {row}," for row in heights)
    face, edge = colors(rng, 2)
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

fig = plt.figure(figsize=(6, 6))
ax = fig.add_subplot(projection="3d")
ax.voxels(filled, facecolors=face_color, edgecolors=edge_color)
ax.set_box_aspect(filled.shape)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_zlabel("z")
ax.set_title(f"A stack of {{column_heights.sum()}} unit cubes")
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
face_opacity = 0.6

angles = np.linspace(0, 2 * np.pi, base_sides, endpoint=False)
base = np.column_stack([base_radius * np.cos(angles), base_radius * np.sin(angles), np.zeros(base_sides)])
{solid}

fig = plt.figure(figsize=(6, 6))
ax = fig.add_subplot(projection="3d")
ax.add_collection3d(Poly3DCollection(faces, facecolors=face_color, edgecolors=edge_color, alpha=face_opacity))
ax.set_xlim(-base_radius, base_radius)
ax.set_ylim(-base_radius, base_radius)
ax.set_zlim(0, height)
ax.set_box_aspect((2 * base_radius, 2 * base_radius, height))
ax.set_title(f"A {kind} on a {{base_sides}}-sided base: {{len(faces)}} faces, {{vertex_count}} vertices")
plt.show()
'''


def program(rng: random.Random) -> str:
    return _stack(rng) if rng.random() < 0.5 else _polyhedron(rng)
