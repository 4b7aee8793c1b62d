"""What the family templates share: number and string literals, colours, markers, line styles,
figure sizes and style sheets.

A template writes a program as a person would: parameters first, each a named variable
with its value spelled out, then the drawing code that reads them. Text (titles, labels,
names) comes from _text.py.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence

# matplotlib's tab10 names: readable in code and distinct in the image.
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
           "tab:gray", "tab:olive", "tab:cyan")
# Palettes a program may take its colours from: names, CSS names and hex codes, as people write them.
PALETTES = (
    PALETTE,
    ("steelblue", "darkorange", "seagreen", "crimson", "slateblue", "goldenrod", "teal", "orchid", "sienna",
     "olivedrab", "navy", "tomato"),
    ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#F0E442"),  # Okabe-Ito
    ("#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F"),
    ("C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"),
    ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"),  # ColorBrewer Dark2
    ("royalblue", "firebrick", "forestgreen", "darkviolet", "chocolate", "deeppink", "darkcyan", "black"),
)
CATEGORY_WORDS = ("Apples", "Pears", "Plums", "Cherries", "Grapes", "Lemons", "Mangoes", "Peaches")
REGIONS = ("North", "South", "East", "West", "Central")
SERIES_NAMES = ("Sensor A", "Sensor B", "Sensor C")
POINT_NAMES = "ABCDEFGH"
VERTEX_NAME_SETS = ("ABCDEF", "PQRSTU", "KLMNOP", "XYZWUV", "DEFGHI", "RSTUVW")
MARKERS = ("o", "s", "^", "D", "v", "x", "+", "*", "p", "h", "<", ">", "d")
LINE_STYLES = ("-", "--", "-.", ":")
LINE_WIDTHS = (1, 1.2, 1.5, 1.8, 2, 2.5, 3)
COLORMAPS = ("viridis", "plasma", "inferno", "magma", "cividis", "coolwarm", "RdBu_r", "YlGnBu", "Spectral",
             "terrain", "Blues", "Greens", "Oranges", "PuOr", "twilight_shifted", "jet")
SEQUENTIAL_COLORMAPS = ("viridis", "plasma", "inferno", "magma", "cividis", "YlGnBu", "Blues", "Greens",
                        "Oranges", "Purples", "YlOrRd", "BuPu")
LEGEND_PLACES = ("best", "upper left", "upper right", "lower left", "lower right", "center right")
FIGURE_SIZES = {
    "wide": ((6, 4), (7, 4.5), (6.4, 4.8), (8, 5), (9, 4), (10, 4.5), (5.5, 4), (8, 6), (7, 3.5), (7.5, 5)),
    "square": ((5, 5), (6, 6), (4.5, 4.5), (7, 7), (5.5, 5), (6, 5.5)),
    "tall": ((5, 6.5), (4.5, 6), (6, 8), (5.5, 7)),
    "strip": ((8, 2.2), (9, 2.5), (10, 2), (7, 2.4), (8.5, 3)),
}
# matplotlib's own style sheets; most programs keep the default look.
STYLE_SHEETS = ("ggplot", "bmh", "seaborn-v0_8-whitegrid", "seaborn-v0_8-darkgrid", "fivethirtyeight", "classic",
                "grayscale", "Solarize_Light2", "seaborn-v0_8-paper", "seaborn-v0_8-ticks", "dark_background")


def num(value: float, digits: int = 2) -> str:
    """A literal as a person types it: 2, 2.5, -0.75 (never 2.5000000001)."""
    rounded = round(float(value), digits)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def num_list(values, digits: int = 2) -> str:
    return "[" + ", ".join(num(v, digits) for v in values) + "]"


def text(value: str) -> str:
    """A string literal: raw when it holds a backslash (mathtext), as people write r"$\\lambda$"."""
    if "\\" in value and '"' not in value and not value.endswith("\\"):
        return f'r"{value}"'
    return repr(value) if '"' in value else f'"{value}"'


def str_list(values) -> str:
    return "[" + ", ".join(text(v) for v in values) + "]"


def colors(rng: random.Random, count: int) -> list[str]:
    """`count` distinct colours from one palette (chosen by the seed) that holds enough of them."""
    palette = rng.choice([p for p in PALETTES if len(p) >= count])
    return rng.sample(palette, count)


def figure_size(rng: random.Random, shape: str = "wide") -> str:
    width, height = rng.choice(FIGURE_SIZES[shape])
    return f"({num(width)}, {num(height)})"


def marker(rng: random.Random) -> str:
    return rng.choice(MARKERS)


def line_style(rng: random.Random, solid_share: float = 0.5) -> str:
    return "-" if rng.random() < solid_share else rng.choice(LINE_STYLES)


def line_width(rng: random.Random) -> str:
    return num(rng.choice(LINE_WIDTHS))


def style_sheet(rng: random.Random, share: float = 0.3, dark: bool = True) -> str:
    """`plt.style.use(...)` for a share of the programs (else ""): matplotlib's own style sheets.
    `dark=False` leaves out the dark background (for drawings in black ink)."""
    if rng.random() >= share:
        return ""
    sheets = STYLE_SHEETS if dark else tuple(s for s in STYLE_SHEETS if s != "dark_background")
    return f'plt.style.use("{rng.choice(sheets)}")\n'


def grid_line(rng: random.Random, axes: str = "ax") -> str:
    """A grid call in one of the ways people write it, or none."""
    return rng.choice(("", f"{axes}.grid(True)\n", f"{axes}.grid(True, alpha=0.3)\n",
                       f'{axes}.grid(True, linestyle="--", alpha=0.5)\n', f'{axes}.grid(axis="y", alpha=0.4)\n',
                       f'{axes}.grid(True, linestyle=":", linewidth=0.8)\n'))


def variant(rng: random.Random, below: Sequence[tuple[float, Callable[[random.Random], str]]],
            otherwise: Callable[[random.Random], str]) -> str:
    """The program of a family's variant chosen by one draw of `rng`: the first whose bound in `below` the
    draw falls under, else `otherwise` -- ((0.15, a), (0.3, b)) with c gives a, b and c 15, 15 and 70 %
    of the seeds."""
    draw = rng.random()
    for bound, write in below:
        if draw < bound:
            return write(rng)
    return otherwise(rng)


def subplot_grid(rng: random.Random, share: float) -> tuple[int, int] | None:
    """(rows, columns) of a multi-panel layout for a `share` of the programs, else None."""
    if rng.random() >= share:
        return None
    return rng.choice(((1, 2), (2, 1), (1, 3), (2, 2)))


def panel_size(rng: random.Random, rows: int, cols: int) -> str:
    """A figure size that gives every panel of a rows x cols layout room."""
    width = rng.choice((3.6, 4, 4.5)) * cols + rng.choice((0.5, 1))
    height = rng.choice((2.8, 3.2, 3.6)) * rows + 0.6
    return f"({num(width)}, {num(height)})"


LINE_WIDTH = 100  # the programs' lines, as a person would keep them


def _list_commas(line: str) -> list[tuple[int, int]]:
    """(index just after a comma, the column of the list's first item) for each comma directly inside a
    [...] list of `line`, outside strings and comments."""
    found, stack, quote, index = [], [], "", 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "([{":
            stack.append((char, index))
        elif char in ")]}" and stack:
            stack.pop()
        elif char == "," and stack and stack[-1][0] == "[":
            found.append((index + 1, stack[-1][1] + 1))
        index += 1
    return found


def wrap_lists(code: str, width: int = LINE_WIDTH) -> str:
    """Lines longer than `width` broken after a comma of a list, the rest aligned under the list's first
    item (PEP 8's visual indent); other lines as they are. The code means the same."""
    lines = []
    for line in code.split("\n"):
        commas, start, column = _list_commas(line), 0, 0
        while column + len(line) - start > width:
            fitting = [(end, indent) for end, indent in commas if end > start and column + end - start <= width]
            if not fitting:
                break
            end, indent = fitting[-1]
            lines.append(" " * column + line[start:end].strip() if start else line[:end].rstrip())
            start = end + len(line[end:]) - len(line[end:].lstrip())
            column = indent
        lines.append(" " * column + line[start:].strip() if start else line)
    return "\n".join(lines)
