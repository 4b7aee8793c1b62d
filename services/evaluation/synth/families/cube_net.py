"""Cube nets: six labelled unit squares in one of the nets that fold into a cube."""
from __future__ import annotations

import random

from ._common import colors

NAME = "cube_net"
# Cells (column, row) of some of the eleven cube nets.
NETS = {
    "cross": [(1, 0), (0, 1), (1, 1), (2, 1), (3, 1), (1, 2)],
    "T": [(0, 0), (1, 0), (2, 0), (1, 1), (1, 2), (1, 3)],
    "staircase": [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3)],
    "zigzag": [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (3, 2)],
    "long L": [(0, 0), (0, 1), (1, 1), (2, 1), (3, 1), (3, 2)],
}
FACE_LABELS = ("1", "2", "3", "4", "5", "6")


def program(rng: random.Random) -> str:
    name = rng.choice(sorted(NETS))
    cells = NETS[name]
    labels = list(FACE_LABELS)
    rng.shuffle(labels)
    cell_lines = "\n".join(f"    ({c}, {r}),"for c, r in cells)
    face, highlight = colors(rng, 2)
    return f'''import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

# The "{name}" net: (column, row) of each face, row 0 at the top.
net_cells = [
{cell_lines}
]
face_labels = {labels}
face_color, highlight_color = "{face}", "{highlight}"
highlighted_face = "{labels[0]}"
square_size = 1.0

fig, ax = plt.subplots(figsize=(6, 6))
for (column, row), label in zip(net_cells, face_labels):
    x, y = column * square_size, -row * square_size
    color = highlight_color if label == highlighted_face else face_color
    ax.add_patch(Rectangle((x, y), square_size, square_size, facecolor=color, edgecolor="black", linewidth=2))
    ax.text(x + square_size / 2, y + square_size / 2, label, ha="center", va="center", fontsize=16)

columns = [column for column, _ in net_cells]
rows = [row for _, row in net_cells]
ax.set_xlim(min(columns) - 0.5, (max(columns) + 1) * square_size + 0.5)
ax.set_ylim(-max(rows) * square_size - 0.5, square_size + 0.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title(f"A cube net; which face is opposite face {{highlighted_face}}?")
plt.show()
'''
