"""Heat maps: a matrix of values over labelled rows and columns (a grid of measurements, a correlation
matrix, values by month or weekday) drawn with imshow or pcolormesh, a colour bar, some with every cell's
value written in it."""
from __future__ import annotations

import random

from . import _text
from ._common import COLORMAPS, SEQUENTIAL_COLORMAPS, figure_size, num, num_list, str_list, text

NAME = "heat_map"


def _grid(rng: random.Random) -> tuple[list[str], list[str], str, str, str, int]:
    """(row names, column names, the values' code, colour bar label, title, decimals) of a measured grid."""
    q = _text.quantity(rng)
    kind = rng.choice(("labels", "months", "weekdays", "numbers"))
    rows = _text.labels(rng, rng.randint(3, 8))
    if kind == "months":
        columns = list(_text.MONTHS[:rng.randint(6, 12)])
    elif kind == "weekdays":
        columns = list(_text.WEEKDAYS[:rng.choice((5, 7))])
    elif kind == "numbers":
        start, step = rng.choice((0, 1, 10)), rng.choice((1, 2, 5, 10))
        columns = [str(start + i * step) for i in range(rng.randint(4, 10))]
    else:
        columns = _text.labels(rng, rng.randint(3, 8))
    digits = _text.digits_for(q)
    values = "\n".join(f"    {num_list([rng.uniform(q.low, q.high) for _ in columns], digits)}," for _ in rows)
    title = _text.caption_number(rng) + rng.choice((_text.title(rng, q), f"{q.name} map",
                                                    f"{q.name} by row and column"))
    return rows, columns, f"values = np.array([\n{values}\n])\n", _text.axis_label(rng, q), title, digits


def _correlation(rng: random.Random) -> tuple[list[str], list[str], str, str, str, int]:
    variables = [q.name for q in _text.quantities(rng, rng.randint(3, 7))]
    count = len(variables)
    values = ("# Variables that share some of their noise, so that they correlate.\n"
              f"mixing = np.eye({count}) + {num(rng.uniform(0.3, 0.8))} * "
              f"np.random.default_rng({rng.randint(0, 9999)}).uniform(-1, 1, size=({count}, {count}))\n"
              f"samples = mixing @ np.random.default_rng({rng.randint(0, 9999)}).normal(size=({count}, "
              f"{rng.choice((40, 60, 100))}))\n"
              "values = np.corrcoef(samples)\n")
    title = _text.caption_number(rng) + rng.choice(("Correlation matrix", "Correlations between the measured variables",
                        "Pairwise correlation (Pearson)", f"Correlation of {count} variables"))
    return variables, variables, values, rng.choice(("Correlation", "Pearson r", "r")), title, 2


def program(rng: random.Random) -> str:
    correlation = rng.random() < 0.3
    rows, columns, values, bar_label, title, digits = _correlation(rng) if correlation else _grid(rng)
    colormap = rng.choice(("coolwarm", "RdBu_r", "PuOr", "bwr") if correlation else COLORMAPS + SEQUENTIAL_COLORMAPS)
    annotate = rng.random() < 0.55
    limits = ", vmin=-1, vmax=1" if correlation else ""
    cell_format = ".2f" if correlation else f".{digits}f"
    draw = rng.choice(("imshow", "imshow", "pcolormesh"))
    if draw == "imshow":
        drawing = (f'image = ax.imshow(values, cmap="{colormap}", aspect="{rng.choice(("auto", "equal"))}"{limits})\n'
                   "ax.set_xticks(range(len(column_names)), column_names)\n"
                   "ax.set_yticks(range(len(row_names)), row_names)\n")
        cell_at = "column, row"
    else:
        drawing = (f'image = ax.pcolormesh(values, cmap="{colormap}", edgecolors="{rng.choice(("white", "gray"))}", '
                   f"linewidth={num(rng.choice((0.5, 1, 2)))}{limits})\n"
                   "ax.set_xticks(np.arange(len(column_names)) + 0.5, column_names)\n"
                   "ax.set_yticks(np.arange(len(row_names)) + 0.5, row_names)\n"
                   "ax.invert_yaxis()  # the first row at the top, as in a table\n")
        cell_at = "column + 0.5, row + 0.5"
    annotation = ""
    if annotate:
        annotation = f'''middle = (values.max() + values.min()) / 2
for (row, column), value in np.ndenumerate(values):
    ax.text({cell_at}, f"{{value:{cell_format}}}", ha="center", va="center", fontsize={rng.choice((7, 8, 9))},
            color="white" if value > middle else "black")
'''
    long_names = max(len(c) for c in columns) > 4 and len(columns) > 4
    rotate = 'plt.setp(ax.get_xticklabels(), rotation=45, ha="right")\n' if correlation or long_names else ""
    return f'''import numpy as np
import matplotlib.pyplot as plt

row_names = {str_list(rows)}
column_names = {str_list(columns)}
{values}
fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("wide", "square")))})
{drawing}fig.colorbar(image, ax=ax, label={text(bar_label)})
{annotation}{rotate}ax.set_title({text(title)})
plt.tight_layout()
plt.show()
'''
