"""Vector and force diagrams: forces on a point as labelled arrows, with their resultant."""
from __future__ import annotations

import random

from ._common import colors

NAME = "force_diagram"


def program(rng: random.Random) -> str:
    count = rng.randint(2, 4)
    angles = sorted(rng.sample(range(0, 360, 15), count))
    magnitudes = [rng.randint(2, 10) for _ in range(count)]
    force_lines = "\n".join(f"    \"F{i + 1}\": ({m}, {a}),"
                            for i, (m, a) in enumerate(zip(magnitudes, angles, strict=True)))
    force_color, resultant_color = colors(rng, 2)
    return f'''import numpy as np
import matplotlib.pyplot as plt

# name: (magnitude in N, direction in degrees from the +x axis)
forces = {{
{force_lines}
}}
force_color, resultant_color = "{force_color}", "{resultant_color}"
head_width = 0.3
margin = 2
label_gap = 1.2  # labels sit this far (in N) beyond their arrow's tip

fig, ax = plt.subplots(figsize=(6, 6))
components = {{}}
for name, (magnitude, direction) in forces.items():
    fx, fy = magnitude * np.cos(np.radians(direction)), magnitude * np.sin(np.radians(direction))
    components[name] = (fx, fy)
    ax.arrow(0, 0, fx, fy, head_width=head_width, length_includes_head=True, color=force_color)
    ax.text(fx + label_gap * np.cos(np.radians(direction)), fy + label_gap * np.sin(np.radians(direction)),
            f"{{name}} = {{magnitude}} N", ha="center", va="center")

resultant_x = sum(fx for fx, _ in components.values())
resultant_y = sum(fy for _, fy in components.values())
ax.arrow(0, 0, resultant_x, resultant_y, head_width=head_width, length_includes_head=True,
         color=resultant_color, linestyle="--")
resultant = np.hypot(resultant_x, resultant_y)
resultant_angle = np.arctan2(resultant_y, resultant_x)
ax.text(resultant_x + label_gap * np.cos(resultant_angle), resultant_y + label_gap * np.sin(resultant_angle),
        f"R = {{resultant:.1f}} N", color=resultant_color, ha="center", va="center")
ax.plot(0, 0, "ko")

reach = max(max(m for m, _ in forces.values()), resultant) + margin
ax.set_xlim(-reach, reach)
ax.set_ylim(-reach, reach)
ax.set_aspect("equal")
ax.axhline(0, color="gray", linewidth=0.5)
ax.axvline(0, color="gray", linewidth=0.5)
ax.set_xlabel("x (N)")
ax.set_ylabel("y (N)")
ax.set_title("Forces acting on a point and their resultant")
plt.show()
'''
