"""Circuits from primitives: a battery and resistors in series or in parallel, drawn with lines only."""
from __future__ import annotations

import random

from ._common import colors

NAME = "circuit"


def program(rng: random.Random) -> str:
    layout = rng.choice(("series", "parallel"))
    count = rng.randint(2, 3)
    resistances = [rng.choice((10, 22, 47, 100, 220, 330, 470)) for _ in range(count)]
    voltage = rng.choice((3, 5, 9, 12))
    wire_color, part_color = colors(rng, 2)
    resistor_lines = "\n".join(f"    \"R{i + 1}\": {r}," for i, r in enumerate(resistances))
    if layout == "series":
        drawing = '''segment = loop_width / len(resistors_ohm)
for i, (name, ohms) in enumerate(resistors_ohm.items()):
    left = i * segment
    draw_wire(ax, (left, loop_height), (left + segment / 4, loop_height))
    draw_resistor(ax, (left + segment / 4, loop_height), (left + 3 * segment / 4, loop_height),
                  f"{name} = {ohms} Ω")
    draw_wire(ax, (left + 3 * segment / 4, loop_height), (left + segment, loop_height))
total_ohm = sum(resistors_ohm.values())
draw_wire(ax, (loop_width, loop_height), (loop_width, 0))
'''
    else:
        drawing = '''draw_wire(ax, (0, loop_height), (loop_width, loop_height))
spacing = loop_width / (len(resistors_ohm) + 1)
for i, (name, ohms) in enumerate(resistors_ohm.items()):
    x = (i + 1) * spacing
    draw_resistor(ax, (x, loop_height), (x, 0), f"{name} = {ohms} Ω")
total_ohm = 1 / sum(1 / ohms for ohms in resistors_ohm.values())
'''
    return f'''import numpy as np
import matplotlib.pyplot as plt

supply_voltage = {voltage}
resistors_ohm = {{
{resistor_lines}
}}
wire_color, part_color = "{wire_color}", "{part_color}"
loop_width, loop_height = 8.0, 4.0
zigzag_teeth = 6
zigzag_amplitude = 0.25
plate_gap = 0.3
long_plate, short_plate = 1.0, 0.5
label_gap = 0.8
label_margin = 1.5


def draw_wire(ax, start, end):
    ax.plot([start[0], end[0]], [start[1], end[1]], color=wire_color, linewidth=2)


def draw_resistor(ax, start, end, label):
    """A zigzag between start and end, labelled beside its middle."""
    start, end = np.array(start), np.array(end)
    along = end - start
    across = np.array([-along[1], along[0]]) / np.linalg.norm(along)
    steps = np.linspace(0, 1, 2 * zigzag_teeth + 1)
    offsets = zigzag_amplitude * np.array([0] + [(-1) ** k for k in range(2 * zigzag_teeth - 1)] + [0])
    points = start + np.outer(steps, along) + np.outer(offsets, across)
    ax.plot(points[:, 0], points[:, 1], color=part_color, linewidth=2)
    middle = start + along / 2 + 2.5 * zigzag_amplitude * across
    ax.text(*middle, label, ha="center", va="center", fontsize=10)


def draw_battery(ax, x, bottom, top, label):
    """Two plates across a vertical wire: the long one is the positive terminal."""
    middle = (bottom + top) / 2
    draw_wire(ax, (x, bottom), (x, middle - plate_gap / 2))
    draw_wire(ax, (x, middle + plate_gap / 2), (x, top))
    ax.plot([x - long_plate / 2, x + long_plate / 2], [middle + plate_gap / 2] * 2, color=part_color, linewidth=3)
    ax.plot([x - short_plate / 2, x + short_plate / 2], [middle - plate_gap / 2] * 2, color=part_color,
            linewidth=3)
    ax.text(x - label_gap, middle, label, ha="right", va="center", fontsize=10)


fig, ax = plt.subplots(figsize=(7, 4.5))
draw_battery(ax, 0, 0, loop_height, f"{{supply_voltage}} V")
draw_wire(ax, (0, 0), (loop_width, 0))
{drawing}current_ma = 1000 * supply_voltage / total_ohm
ax.set_title(f"{layout.capitalize()} circuit: total {{total_ohm:.1f}} Ω, current {{current_ma:.1f}} mA")
ax.set_xlim(-label_margin, loop_width + label_margin)
ax.set_ylim(-label_margin, loop_height + label_margin)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
'''
