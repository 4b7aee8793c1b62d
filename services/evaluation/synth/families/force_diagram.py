"""Force diagrams: forces on a point as labelled arrows with their resultant (some with components),
or a free-body diagram of a block on a slope or a floor: weight, normal force, friction, a pull."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, grid_line, num, text

NAME = "force_diagram"


def _on_a_point(rng: random.Random) -> str:
    count = rng.randint(2, 5)
    angles = sorted(rng.sample(range(0, 360, 15), count))
    unit = rng.choice(("N", "N", "kN"))
    magnitudes = [rng.randint(2, 12) for _ in range(count)]
    naming = rng.choice(("F", "P", "T", "numbered"))
    names = [f"F{i + 1}" for i in range(count)] if naming == "numbered" else \
        [f"${naming}_{i + 1}$" for i in range(count)]
    force_lines = "\n".join(f"    {text(n)}: ({m}, {a}),"
                            for n, m, a in zip(names, magnitudes, angles, strict=True))
    force_color, resultant_color, component_color = colors(rng, 3)
    components = rng.random() < 0.3
    title = _text.exercise_prefix(rng) + rng.choice((
        "Forces acting on a point and their resultant", "Resultant of concurrent forces",
        f"{count} forces on a particle", "Vector sum of the forces", "Force polygon at the origin",
        f"Find the resultant of {', '.join(names)}"))
    component_code = ('''    ax.plot([0, fx, fx], [0, 0, fy], color=component_color, linestyle=":", linewidth=1)
''' if components else "")
    return f'''import numpy as np
import matplotlib.pyplot as plt

# name: (magnitude in {unit}, direction in degrees from the +x axis)
forces = {{
{force_lines}
}}
force_color, resultant_color, component_color = "{force_color}", "{resultant_color}", "{component_color}"
head_width = {num(rng.choice((0.25, 0.3, 0.4)))}
margin = 2
label_gap = 1.2  # labels sit this far beyond their arrow's tip

fig, ax = plt.subplots(figsize={figure_size(rng, "square")})
components = {{}}
for name, (magnitude, direction) in forces.items():
    fx, fy = magnitude * np.cos(np.radians(direction)), magnitude * np.sin(np.radians(direction))
    components[name] = (fx, fy)
    ax.arrow(0, 0, fx, fy, head_width=head_width, length_includes_head=True, color=force_color,
             width={num(rng.choice((0.01, 0.03, 0.05)))})
{component_code}    label_x = fx + label_gap * np.cos(np.radians(direction))
    label_y = fy + label_gap * np.sin(np.radians(direction))
    ax.text(label_x, label_y, f"{{name}} = {{magnitude}} {unit}", ha="center", va="center", fontsize=9)

resultant_x = sum(fx for fx, _ in components.values())
resultant_y = sum(fy for _, fy in components.values())
ax.arrow(0, 0, resultant_x, resultant_y, head_width=head_width, length_includes_head=True,
         color=resultant_color, linestyle="--")
resultant = np.hypot(resultant_x, resultant_y)
resultant_angle = np.arctan2(resultant_y, resultant_x)
ax.text(resultant_x + label_gap * np.cos(resultant_angle), resultant_y + label_gap * np.sin(resultant_angle),
        f"R = {{resultant:.1f}} {unit}", color=resultant_color, ha="center", va="center")
ax.plot(0, 0, "ko")

reach = max(max(m for m, _ in forces.values()), resultant) + margin
ax.set_xlim(-reach, reach)
ax.set_ylim(-reach, reach)
ax.set_aspect("equal")
ax.axhline(0, color="gray", linewidth=0.5)
ax.axvline(0, color="gray", linewidth=0.5)
ax.set_xlabel("x ({unit})")
ax.set_ylabel("y ({unit})")
{grid_line(rng)}ax.set_title({text(title)})
plt.show()
'''


def _block(rng: random.Random) -> str:
    slope = rng.choice((0, 0, 15, 20, 25, 30, 35, 40))
    mass = rng.choice((1, 2, 2.5, 4, 5, 8, 10))
    friction = rng.choice((0, 0.1, 0.2, 0.3, 0.4))
    pull = rng.choice((0, 0, 10, 15, 20, 30))
    pull_angle = rng.choice((0, 15, 30, 45))
    block_color, arrow_color, ground_color = colors(rng, 3)
    label_style = rng.choice(("words", "symbols"))
    labels = ({"weight": "Weight", "normal": "Normal force", "friction": "Friction", "pull": "Pull"}
              if label_style == "words" else {"weight": "$mg$", "normal": "$N$", "friction": "$f$", "pull": "$F$"})
    label_lines = ", ".join(f'"{k}": {text(v)}' for k, v in labels.items())
    thing = rng.choice(("block", "crate", "box", "sled", "cart"))
    place = f"a {slope}° slope" if slope else rng.choice(("a floor", "level ground", "a table"))
    title = rng.choice((f"{thing.capitalize()} on {place}", f"Free-body diagram of the {thing}",
                        f"A {num(mass)} kg {thing} on {place}", f"Forces on the {thing}, μ = {num(friction)}",
                        f"{thing.capitalize()} of mass {num(mass)} kg" + (f", incline {slope}°" if slope else "")))
    return f'''import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

slope_deg = {slope}
mass_kg = {num(mass)}
gravity = 9.81
friction_coefficient = {num(friction)}
pull_n = {pull}  # along the slope, tilted up by pull_angle_deg
pull_angle_deg = {pull_angle}
block_size = 2.0
longest_arrow = {num(rng.choice((3, 3.5, 4)))}  # drawing units of the largest force's arrow
block_color, arrow_color, ground_color = "{block_color}", "{arrow_color}", "{ground_color}"
labels = {{{label_lines}}}

theta = np.radians(slope_deg)
along = np.array([np.cos(theta), np.sin(theta)])  # up the slope
normal = np.array([-np.sin(theta), np.cos(theta)])
weight = mass_kg * gravity
normal_force = weight * np.cos(theta) - pull_n * np.sin(np.radians(pull_angle_deg))
friction = friction_coefficient * max(normal_force, 0)

fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("wide", "square")))})
ax.plot([-6 * along[0], 6 * along[0]], [-6 * along[1], 6 * along[1]], color=ground_color, linewidth=2)
ax.add_patch(Rectangle((0, 0), block_size, block_size, angle=slope_deg, facecolor=block_color, edgecolor="black",
                       alpha=0.6))
centre = along * block_size / 2 + normal * block_size / 2

forces = {{
    "weight": np.array([0, -weight]),
    "normal": normal * normal_force,
    "friction": -along * friction,
    "pull": pull_n * (np.cos(np.radians(pull_angle_deg)) * along + np.sin(np.radians(pull_angle_deg)) * normal),
}}
arrow_scale = longest_arrow / max(np.hypot(*force) for force in forces.values())
for name, force in forces.items():
    if np.hypot(*force) < 1e-9:
        continue
    tip = centre + arrow_scale * force
    ax.annotate("", xy=tip, xytext=centre, arrowprops={{"arrowstyle": "-|>", "color": arrow_color, "linewidth": 2}})
    ax.text(*(tip + 0.3 * force / np.hypot(*force)), f"{{labels[name]}} = {{np.hypot(*force):.1f}} N",
            ha="center", va="center", fontsize=9)
ax.set_title({text(title)})
ax.set_aspect("equal")
ax.set_xlim(-5, 6)
ax.set_ylim(-5, 6)
ax.axis("off")
plt.show()
'''


def program(rng: random.Random) -> str:
    return _block(rng) if rng.random() < 0.4 else _on_a_point(rng)
