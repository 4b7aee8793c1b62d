"""Plane geometry: a triangle with labelled vertices and sides, and the angle at one vertex marked by an arc."""
from __future__ import annotations

import random

from ._common import POINT_NAMES, colors

NAME = "plane_geometry"


def _triangle(rng: random.Random) -> list[tuple[int, int]]:
    while True:
        points = [(rng.randint(0, 8), rng.randint(0, 6)) for _ in range(3)]
        (ax, ay), (bx, by), (cx, cy) = points
        if abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) >= 8:  # not too thin
            return points


def program(rng: random.Random) -> str:
    points = _triangle(rng)
    start = rng.randrange(len(POINT_NAMES) - 2)
    names = POINT_NAMES[start:start + 3]
    edge_color, arc_color = colors(rng, 2)
    marked = rng.randrange(3)
    point_lines = "\n".join(f"    \"{n}\": np.array([{x}, {y}]),"for n, (x, y) in zip(names, points, strict=True))
    vertex, first, second = names[marked], names[(marked + 1) % 3], names[(marked + 2) % 3]
    return f'''import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Arc

points = {{
{point_lines}
}}
marked_vertex, first_neighbour, second_neighbour = "{vertex}", "{first}", "{second}"
arc_radius = 0.8
label_offset = 0.25

fig, ax = plt.subplots(figsize=(6, 5))
names = list(points)
for start, end in zip(names, names[1:] + names[:1]):
    (x0, y0), (x1, y1) = points[start], points[end]
    ax.plot([x0, x1], [y0, y1], color="{edge_color}", linewidth=2)
    length = np.hypot(x1 - x0, y1 - y0)
    ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{{length:.2f}}", fontsize=9, ha="center", va="bottom")

centroid = np.mean(list(points.values()), axis=0)
for name, point in points.items():
    ax.plot(*point, "o", color="black")
    direction = (point - centroid) / np.linalg.norm(point - centroid)
    ax.text(*(point + label_offset * direction), name, fontsize=13, ha="center", va="center")

# The marked angle, from the vertex to its two neighbours.
vertex = points[marked_vertex]
to_first = points[first_neighbour] - vertex
to_second = points[second_neighbour] - vertex
angle_first = np.degrees(np.arctan2(to_first[1], to_first[0]))
angle_second = np.degrees(np.arctan2(to_second[1], to_second[0]))
start_angle, end_angle = sorted((angle_first, angle_second))
if end_angle - start_angle > 180:
    start_angle, end_angle = end_angle, start_angle + 360
ax.add_patch(Arc(vertex, 2 * arc_radius, 2 * arc_radius, theta1=start_angle, theta2=end_angle,
                 color="{arc_color}", linewidth=1.5))
middle = np.radians((start_angle + end_angle) / 2)
opening = (end_angle - start_angle) % 360
ax.text(vertex[0] + 1.6 * arc_radius * np.cos(middle), vertex[1] + 1.6 * arc_radius * np.sin(middle),
        f"{{opening:.1f}}°", color="{arc_color}", ha="center", va="center")

ax.set_title(f"Triangle {{''.join(names)}} with the angle at {{marked_vertex}}")
ax.margins(0.15)  # room for the vertex labels outside the triangle
ax.set_aspect("equal")
ax.axis("off")
plt.show()
'''
