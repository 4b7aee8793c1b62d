"""Plane geometry: a triangle with labelled vertices and sides and marked angles (some with a median or
an altitude), a polygon with its diagonals and area, or a circle with a chord, radius and inscribed
triangle."""
from __future__ import annotations

import math
import random

from ._common import VERTEX_NAME_SETS, colors, figure_size, line_width, num, str_list, variant

NAME = "plane_geometry"


def _triangle_points(rng: random.Random) -> list[tuple[int, int]]:
    while True:
        points = [(rng.randint(0, 10), rng.randint(0, 7)) for _ in range(3)]
        (ax, ay), (bx, by), (cx, cy) = points
        if abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) >= 12:  # not too thin
            return points


def _names(rng: random.Random, count: int) -> str:
    names = rng.choice(VERTEX_NAME_SETS)
    start = rng.randrange(len(names) - count + 1)
    return names[start:start + count]


def _triangle(rng: random.Random) -> str:
    points = _triangle_points(rng)
    names = _names(rng, 3)
    edge_color, arc_color, fill_color = colors(rng, 3)
    marked = sorted(rng.sample(range(3), rng.choice((1, 1, 2, 3))))
    point_lines = "\n".join(f'    "{n}": np.array([{x}, {y}]),' for n, (x, y) in zip(names, points, strict=True))
    with_lengths = rng.random() < 0.75
    fill = f'ax.fill(*zip(*points.values()), color="{fill_color}", alpha={num(rng.choice((0.15, 0.25, 0.35)))})\n' \
        if rng.random() < 0.4 else ""
    extra_kind = rng.choice(("", "", "median", "altitude"))
    extra = ""
    if extra_kind:
        vertex = names[rng.randrange(3)]
        others = [n for n in names if n != vertex]
        foot = ("(points[base_start] + points[base_end]) / 2" if extra_kind == "median" else
                "points[base_start] + np.dot(points[apex] - points[base_start], base) / np.dot(base, base) * base")
        extra = f'''
# The {extra_kind} from {vertex} to the opposite side.
apex, base_start, base_end = "{vertex}", "{others[0]}", "{others[1]}"
base = points[base_end] - points[base_start]
foot = {foot}
ax.plot(*zip(points[apex], foot), color="{arc_color}", linestyle="--", linewidth=1.2)
ax.plot(*foot, "o", color="{arc_color}", markersize=4)
'''
    length_code = ('    ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{length:.2f}", fontsize=9, ha="center", '
                   'va="bottom")\n' if with_lengths else "")
    title = rng.choice(('f"Triangle {\'\'.join(names)}"', '"A triangle and its marked angles"',
                        'f"Triangle {\'\'.join(names)}: perimeter {perimeter:.2f}"',
                        f'"Angles of triangle {"".join(names)}"'))
    return f'''import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Arc

points = {{
{point_lines}
}}
marked_vertices = {str_list(names[i] for i in marked)}
edge_color, arc_color = "{edge_color}", "{arc_color}"
arc_radius = {num(rng.choice((0.6, 0.8, 1.0)))}
label_offset = 0.3

fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("wide", "square")))})
names = list(points)
perimeter = 0
for start, end in zip(names, names[1:] + names[:1]):
    (x0, y0), (x1, y1) = points[start], points[end]
    ax.plot([x0, x1], [y0, y1], color=edge_color, linewidth={line_width(rng)})
    length = np.hypot(x1 - x0, y1 - y0)
    perimeter += length
{length_code}{fill}
centroid = np.mean(list(points.values()), axis=0)
for name, point in points.items():
    ax.plot(*point, "o", color="black", markersize=4)
    direction = (point - centroid) / np.linalg.norm(point - centroid)
    ax.text(*(point + label_offset * direction), name, fontsize=13, ha="center", va="center")

# Each marked angle, from its vertex to its two neighbours.
for vertex_name in marked_vertices:
    vertex = points[vertex_name]
    first, second = (points[n] for n in names if n != vertex_name)
    angle_first = np.degrees(np.arctan2(*(first - vertex)[::-1]))
    angle_second = np.degrees(np.arctan2(*(second - vertex)[::-1]))
    start_angle, end_angle = sorted((angle_first, angle_second))
    if end_angle - start_angle > 180:
        start_angle, end_angle = end_angle, start_angle + 360
    ax.add_patch(Arc(vertex, 2 * arc_radius, 2 * arc_radius, theta1=start_angle, theta2=end_angle,
                     color=arc_color, linewidth=1.5))
    middle = np.radians((start_angle + end_angle) / 2)
    opening = (end_angle - start_angle) % 360
    ax.text(vertex[0] + 1.7 * arc_radius * np.cos(middle), vertex[1] + 1.7 * arc_radius * np.sin(middle),
            f"{{opening:.{rng.choice((0, 1))}f}}°", color=arc_color, ha="center", va="center", fontsize=9)
{extra}
ax.set_title({title})
ax.margins(0.15)  # room for the vertex labels outside the triangle
ax.set_aspect("equal")
ax.axis("off")
plt.show()
'''


def _polygon(rng: random.Random) -> str:
    sides = rng.randint(4, 6)
    radius = rng.choice((3, 4, 5))
    # A simple polygon: vertices at increasing angles around a centre, at varying distances.
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(sides))
    while min((b - a) % (2 * math.pi) for a, b in zip(angles, angles[1:] + angles[:1], strict=True)) < 0.6:
        angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(sides))
    distances = [radius * rng.uniform(0.8, 1) for _ in angles]
    points = [(round(d * math.cos(a), 1), round(d * math.sin(a), 1)) for a, d in zip(angles, distances, strict=True)]
    names = _names(rng, sides)
    edge, diagonal, fill = colors(rng, 3)
    point_lines = "\n".join(f'    "{n}": ({x}, {y}),' for n, (x, y) in zip(names, points, strict=True))
    kind = {4: "quadrilateral", 5: "pentagon", 6: "hexagon"}[sides]
    return f'''import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Polygon

vertices = {{
{point_lines}
}}
edge_color, diagonal_color, fill_color = "{edge}", "{diagonal}", "{fill}"
draw_diagonals = {rng.random() < 0.6}

corners = np.array(list(vertices.values()))
# The shoelace formula for the area.
x, y = corners[:, 0], corners[:, 1]
area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))

fig, ax = plt.subplots(figsize={figure_size(rng, "square")})
ax.add_patch(Polygon(corners, closed=True, facecolor=fill_color, edgecolor=edge_color, alpha=0.3))
ax.add_patch(Polygon(corners, closed=True, fill=False, edgecolor=edge_color, linewidth={line_width(rng)}))
if draw_diagonals:
    names = list(vertices)
    for i in range(len(names)):
        for j in range(i + 2, len(names)):
            if (i, j) != (0, len(names) - 1):
                ax.plot(*zip(vertices[names[i]], vertices[names[j]]), color=diagonal_color, linestyle="--",
                        linewidth=1)
centre = corners.mean(axis=0)
for name, point in vertices.items():
    direction = (np.array(point) - centre) / np.linalg.norm(np.array(point) - centre)
    ax.plot(*point, "o", color="black", markersize=4)
    ax.text(*(np.array(point) + 0.4 * direction), name, fontsize=12, ha="center", va="center")
ax.set_title(f"{kind.capitalize()} {{''.join(vertices)}}: area {{area:.{rng.choice((1, 2))}f}}")
ax.set_aspect("equal")
ax.margins(0.12)
ax.axis("off")
plt.show()
'''


def _circle(rng: random.Random) -> str:
    radius = rng.choice((2, 2.5, 3, 4, 5))
    names = _names(rng, 3)
    angles = sorted(rng.sample(range(0, 360, 20), 3))
    circle_color, chord_color, radius_color = colors(rng, 3)
    centre_name = rng.choice([n for n in "OMZ" if n not in names])
    return f'''import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

radius = {num(radius)}
centre = np.array([0.0, 0.0])
# Points on the circle, by their angle in degrees.
point_angles = {{{", ".join(f'"{n}": {a}' for n, a in zip(names, angles, strict=True))}}}
circle_color, chord_color, radius_color = "{circle_color}", "{chord_color}", "{radius_color}"

points = {{name: centre + radius * np.array([np.cos(np.radians(a)), np.sin(np.radians(a))])
          for name, a in point_angles.items()}}
fig, ax = plt.subplots(figsize={figure_size(rng, "square")})
ax.add_patch(Circle(centre, radius, fill=False, edgecolor=circle_color, linewidth=2))
names = list(points)
for start, end in zip(names, names[1:] + names[:1]):
    ax.plot(*zip(points[start], points[end]), color=chord_color, linewidth=1.5)
ax.plot(*zip(centre, points[names[0]]), color=radius_color, linestyle="--")
middle = (centre + points[names[0]]) / 2
ax.text(*middle, f"r = {{radius}}", color=radius_color, ha="right", va="bottom")
ax.plot(*centre, "o", color="black", markersize=4)
ax.text(centre[0] + 0.15, centre[1] - 0.15, "{centre_name}", ha="left", va="top", fontsize=12)
for name, point in points.items():
    ax.plot(*point, "o", color="black", markersize=4)
    ax.text(*(1.12 * point), name, ha="center", va="center", fontsize=12)
ax.set_title(f"{{''.join(names)}} inscribed in a circle: circumference {{2 * np.pi * radius:.2f}}")
ax.set_xlim(-1.3 * radius, 1.3 * radius)
ax.set_ylim(-1.3 * radius, 1.3 * radius)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
'''


def program(rng: random.Random) -> str:
    return variant(rng, ((0.55, _triangle), (0.8, _polygon)), otherwise=_circle)
