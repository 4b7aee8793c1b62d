"""Cube nets: six labelled squares in one of the eleven nets that fold into a cube, turned or mirrored,
faces marked with digits, letters, symbols or colours, one face highlighted."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, num, str_list, text

NAME = "cube_net"
# Cells (column, row) of the eleven cube nets, row 0 at the top.
NETS = {
    "1-4-1 cross": [(1, 0), (0, 1), (1, 1), (2, 1), (3, 1), (1, 2)],
    "1-4-1 T": [(0, 0), (0, 1), (1, 1), (2, 1), (3, 1), (0, 2)],
    "1-4-1 L": [(0, 0), (0, 1), (1, 1), (2, 1), (3, 1), (3, 2)],
    "1-4-1 Z": [(0, 0), (0, 1), (1, 1), (2, 1), (3, 1), (2, 2)],
    "1-4-1 offset": [(1, 0), (0, 1), (1, 1), (2, 1), (3, 1), (2, 2)],
    "1-4-1 step": [(0, 0), (0, 1), (1, 1), (2, 1), (3, 1), (1, 2)],
    "2-3-1 a": [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (2, 2)],
    "2-3-1 b": [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (3, 2)],
    "2-3-1 c": [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (1, 2)],
    "2-2-2 staircase": [(0, 0), (1, 0), (1, 1), (2, 1), (2, 2), (3, 2)],
    "3-3 zigzag": [(0, 0), (1, 0), (2, 0), (2, 1), (3, 1), (4, 1)],
}
FACE_MARKS = {
    "digits": ("1", "2", "3", "4", "5", "6"),
    "letters": ("A", "B", "C", "D", "E", "F"),
    "symbols": ("★", "●", "▲", "■", "♦", "♥"),
    "words": ("top", "bottom", "front", "back", "left", "right"),
    "dots": ("•", "••", "•••", "••••", "•••••", "••••••"),
}


def _turn(cells: list[tuple[int, int]], turns: int, mirrored: bool) -> list[tuple[int, int]]:
    """The net turned by quarter turns and maybe mirrored, moved back to start at (0, 0)."""
    for _ in range(turns):
        cells = [(-row, column) for column, row in cells]
    if mirrored:
        cells = [(-column, row) for column, row in cells]
    left, top = min(c for c, _ in cells), min(r for _, r in cells)
    return sorted((c - left, r - top) for c, r in cells)


def program(rng: random.Random) -> str:
    name = rng.choice(sorted(NETS))
    cells = _turn(NETS[name], rng.randrange(4), rng.random() < 0.5)
    marks = rng.choice(sorted(FACE_MARKS))
    labels = list(FACE_MARKS[marks])
    rng.shuffle(labels)
    cell_lines = "\n".join(f"    ({c}, {r})," for c, r in cells)
    coloured = rng.random() < 0.3
    face, highlight = colors(rng, 2)
    face_colors = colors(rng, 6) if coloured else None
    highlighted = labels[0]
    question = rng.choice((
        f"which face is opposite {highlighted}?", f"which faces touch {highlighted}?",
        "does this net fold into a cube?", f"net of a cube ({name.split()[0]} pattern)",
        f"face {highlighted} is on top: which face is at the bottom?"))
    body = rng.choice(("A cube net; ", "Net: ", "", "Folding a cube: ")) + question
    title = _text.exercise_prefix(rng) + body[0].upper() + body[1:]
    fill = ("fill_colors = " + "[" + ", ".join(f'"{c}"' for c in face_colors) + "]\n") if coloured else ""
    color_choice = ("fill_colors[index]" if coloured else
                    "highlight_color if label == highlighted_face else face_color")
    return f'''import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

# The "{name}" net: (column, row) of each face, row 0 at the top.
net_cells = [
{cell_lines}
]
face_labels = {str_list(labels)}
face_color, highlight_color = "{face}", "{highlight}"
{fill}highlighted_face = {text(highlighted)}
square_size = {num(rng.choice((1.0, 1.0, 1.5, 2.0)))}
edge_width = {num(rng.choice((1, 1.5, 2, 2.5)))}

fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("square", "wide")))})
for index, ((column, row), label) in enumerate(zip(net_cells, face_labels)):
    x, y = column * square_size, -row * square_size
    color = {color_choice}
    ax.add_patch(Rectangle((x, y), square_size, square_size, facecolor=color, edgecolor="black",
                           linewidth=edge_width))
    ax.text(x + square_size / 2, y + square_size / 2, label, ha="center", va="center",
            fontsize={rng.choice((11, 13, 16))})

columns = [column for column, _ in net_cells]
rows = [row for _, row in net_cells]
ax.set_xlim(min(columns) * square_size - 0.5, (max(columns) + 1) * square_size + 0.5)
ax.set_ylim(-max(rows) * square_size - 0.5, square_size + 0.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title({text(title)})
plt.show()
'''
