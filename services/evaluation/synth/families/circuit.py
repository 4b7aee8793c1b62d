"""Circuits from primitives: a battery and resistors in series, in parallel or both (one resistor in
series with a parallel pair), some with an ammeter, drawn with lines only."""
from __future__ import annotations

import random

from ._common import colors, figure_size, num, text

NAME = "circuit"
E12 = (10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82)

SERIES = '''segment = loop_width / len(resistors_ohm)
for i, (name, ohms) in enumerate(resistors_ohm.items()):
    left = i * segment
    draw_wire(ax, (left, loop_height), (left + segment / 4, loop_height))
    draw_resistor(ax, (left + segment / 4, loop_height), (left + 3 * segment / 4, loop_height),
                  f"{name} = {format_ohms(ohms)}")
    draw_wire(ax, (left + 3 * segment / 4, loop_height), (left + segment, loop_height))
total_ohm = sum(resistors_ohm.values())
draw_wire(ax, (loop_width, loop_height), (loop_width, 0))
'''
PARALLEL = '''draw_wire(ax, (0, loop_height), (loop_width, loop_height))
spacing = loop_width / len(resistors_ohm)
for i, (name, ohms) in enumerate(resistors_ohm.items()):
    x = (i + 1) * spacing
    draw_resistor(ax, (x, loop_height), (x, 0), f"{name} = {format_ohms(ohms)}")
total_ohm = 1 / sum(1 / ohms for ohms in resistors_ohm.values())
'''
MIXED = '''# The first resistor in series along the top, the others in parallel on the right.
(first_name, first_ohms), *branches = resistors_ohm.items()
draw_wire(ax, (0, loop_height), (loop_width / 6, loop_height))
draw_resistor(ax, (loop_width / 6, loop_height), (loop_width / 2, loop_height),
              f"{first_name} = {format_ohms(first_ohms)}")
draw_wire(ax, (loop_width / 2, loop_height), (loop_width, loop_height))
spacing = (loop_width / 2) / len(branches)
for i, (name, ohms) in enumerate(branches):
    x = loop_width - i * spacing
    draw_resistor(ax, (x, loop_height), (x, 0), f"{name} = {format_ohms(ohms)}")
total_ohm = first_ohms + 1 / sum(1 / ohms for _, ohms in branches)
'''


def program(rng: random.Random) -> str:
    layout = rng.choice(("series", "parallel", "mixed"))
    count = rng.randint(3, 4) if layout == "mixed" else rng.randint(2, 4)
    scale = rng.choice((1, 1, 10, 100))
    resistances = [rng.choice(E12) * scale for _ in range(count)]
    voltage = rng.choice((1.5, 3, 4.5, 5, 6, 9, 12, 24))
    wire_color, part_color = colors(rng, 2) if rng.random() < 0.6 else ("black", "black")
    naming = rng.choice(("R{}", "$R_{}$", "R{}"))
    resistor_lines = "\n".join(f"    {text(naming.format(i + 1))}: {r}," for i, r in enumerate(resistances))
    drawing = {"series": SERIES, "parallel": PARALLEL, "mixed": MIXED}[layout]
    ammeter = rng.random() < 0.35
    ammeter_code = '''meter_x = loop_width / 10  # the ammeter on the return wire, near the battery
draw_wire(ax, (0, 0), (meter_x - meter_radius, 0))
draw_meter(ax, (meter_x, 0), "A")
draw_wire(ax, (meter_x + meter_radius, 0), (loop_width, 0))
''' if ammeter else "draw_wire(ax, (0, 0), (loop_width, 0))\n"
    width = rng.choice((8.0, 9.0, 10.0))
    title = rng.choice((
        f'f"{layout.capitalize()} circuit: total {{total_ohm:.1f}} Ω, current {{current_ma:.1f}} mA"',
        f'f"{{supply_voltage}} V across {count} resistors ({layout})"',
        '"Find the current drawn from the battery"' if ammeter else f'"A {layout} resistor network"',
        'f"Equivalent resistance {total_ohm:.1f} Ω"',
    ))
    return f'''import numpy as np
import matplotlib.pyplot as plt

supply_voltage = {num(voltage)}
resistors_ohm = {{
{resistor_lines}
}}
wire_color, part_color = "{wire_color}", "{part_color}"
line_width = {num(rng.choice((1.5, 2, 2.5)))}
loop_width, loop_height = {num(width)}, {num(rng.choice((4.0, 4.5, 5.0)))}
zigzag_teeth = {rng.choice((4, 5, 6))}
zigzag_amplitude = {num(rng.choice((0.2, 0.25, 0.3)))}
plate_gap = 0.3
long_plate, short_plate = 1.0, 0.5
meter_radius = 0.35
label_gap = 0.8
label_margin = 1.5


def format_ohms(ohms):
    return f"{{ohms / 1000:g}} kΩ" if ohms >= 1000 else f"{{ohms}} Ω"


def draw_wire(ax, start, end):
    ax.plot([start[0], end[0]], [start[1], end[1]], color=wire_color, linewidth=line_width)


def draw_resistor(ax, start, end, label):
    """A zigzag between start and end, labelled beside its middle."""
    start, end = np.array(start), np.array(end)
    along = end - start
    across = np.array([-along[1], along[0]]) / np.linalg.norm(along)
    steps = np.linspace(0, 1, 2 * zigzag_teeth + 1)
    offsets = zigzag_amplitude * np.array([0] + [(-1) ** k for k in range(2 * zigzag_teeth - 1)] + [0])
    points = start + np.outer(steps, along) + np.outer(offsets, across)
    ax.plot(points[:, 0], points[:, 1], color=part_color, linewidth=line_width)
    middle = start + along / 2 + 3 * zigzag_amplitude * across
    rotation = 90 if along[0] == 0 else 0  # along a vertical resistor
    ax.text(*middle, label, ha="center", va="center", rotation=rotation, fontsize={rng.choice((8, 9, 10))})


def draw_battery(ax, x, bottom, top, label):
    """Two plates across a vertical wire: the long one is the positive terminal."""
    middle = (bottom + top) / 2
    draw_wire(ax, (x, bottom), (x, middle - plate_gap / 2))
    draw_wire(ax, (x, middle + plate_gap / 2), (x, top))
    ax.plot([x - long_plate / 2, x + long_plate / 2], [middle + plate_gap / 2] * 2, color=part_color, linewidth=3)
    ax.plot([x - short_plate / 2, x + short_plate / 2], [middle - plate_gap / 2] * 2, color=part_color,
            linewidth=3)
    ax.text(x - label_gap, middle, label, ha="right", va="center", fontsize=10)


def draw_meter(ax, centre, letter):
    ax.add_patch(plt.Circle(centre, meter_radius, fill=False, edgecolor=part_color, linewidth=line_width))
    ax.text(*centre, letter, ha="center", va="center", fontsize=11)


fig, ax = plt.subplots(figsize={figure_size(rng)})
draw_battery(ax, 0, 0, loop_height, f"{{supply_voltage}} V")
{ammeter_code}{drawing}current_ma = 1000 * supply_voltage / total_ohm
ax.set_title({title})
ax.set_xlim(-label_margin, loop_width + label_margin)
ax.set_ylim(-label_margin, loop_height + label_margin)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
'''
