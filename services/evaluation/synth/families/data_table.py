"""Tables: a small table of measurements drawn with matplotlib's table, with a totals or means row,
coloured header cells and alternating row shading; some beside a bar chart of the same numbers."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, num, num_list, str_list, text

NAME = "data_table"
COLUMN_SETS = (
    ("Q1", "Q2", "Q3", "Q4"), ("Mon", "Tue", "Wed", "Thu", "Fri"), ("Trial 1", "Trial 2", "Trial 3"),
    ("2019", "2020", "2021", "2022", "2023"), ("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    ("Min", "Mean", "Max"), ("Run A", "Run B", "Run C", "Run D"), ("0 h", "6 h", "12 h", "24 h", "48 h"),
)


def program(rng: random.Random) -> str:
    q = _text.quantity(rng)
    rows = _text.labels(rng, rng.randint(2, 6))
    column_set = rng.choice(COLUMN_SETS)
    columns = column_set[:rng.randint(min(3, len(column_set)), len(column_set))]
    digits = _text.digits_for(q)
    values = [[round(rng.uniform(max(q.low, 0.1 * q.high), q.high), digits) for _ in columns] for _ in rows]
    value_rows = "\n".join(f"    {num_list(row, digits)}," for row in values)
    summary = rng.choice(("Total", "Mean", "Mean", "Max"))
    summary_code = {"Total": "[sum(column) for column in zip(*table_values)]",
                    "Mean": "[sum(column) / len(column) for column in zip(*table_values)]",
                    "Max": "[max(column) for column in zip(*table_values)]"}[summary]
    header, total, stripe = colors(rng, 3)
    with_chart = rng.random() < 0.25
    stripes = rng.random() < 0.4
    stripe_code = f'''for row in range(1, len(row_names) + 1, 2):  # shade every other row
    for column in range(len(column_names)):
        table[row, column].set_facecolor("{stripe}")
        table[row, column].set_alpha(0.3)
''' if stripes else ""
    title = _text.caption_number(rng) + rng.choice((
        _text.title(rng, q), f"{q.name} per {rng.choice(_text.PLACES).lower()}",
        f"Table: {_text.axis_label(rng, q)}", f"{q.name} of {len(rows)} {rng.choice(_text.PLACES).lower()}s"))
    unit_line = f"value_format = \"{{:.{digits}f}}\"\n"
    if with_chart:
        size = f"({rng.choice((10, 11, 12))}, {num(rng.choice((3.5, 4, 4.5)))})"
        figure = f'''fig, (ax, chart) = plt.subplots(1, 2, figsize={size},
                              gridspec_kw={{"width_ratios": [3, 2]}})
fig.subplots_adjust(left=0.15, wspace=0.3)
for name, row in zip(row_names, table_values):
    chart.plot(column_names, row, marker="o", label=name)
chart.set_ylabel({text(_text.axis_label(rng, q))})
chart.set_title("The same values")
chart.legend(fontsize=7)
'''
    else:
        figure = (f"height = 1.2 + 0.35 * row_scale * (len(row_names) + 2)  # grows with the rows\n"
                  f"fig, ax = plt.subplots(figsize=({rng.choice((6, 7, 8))}, height))\n"
                  "fig.subplots_adjust(left=0.25, right=0.95)  # room for the row names at the left\n")
    return f'''import matplotlib.pyplot as plt

row_names = {str_list(rows)}
column_names = {str_list(columns)}
table_values = [
{value_rows}
]
header_color, summary_color = "{header}", "{total}"
{unit_line}font_size = {rng.choice((9, 10, 11, 12))}
row_scale = {num(rng.choice((1.3, 1.5, 1.6, 1.8)))}

summary = {summary_code}
cells = [[value_format.format(value) for value in row] for row in table_values + [summary]]
{figure}ax.axis("off")
table = ax.table(cellText=cells, rowLabels=row_names + [{text(summary)}], colLabels=column_names, loc="center",
                 cellLoc="center")
table.auto_set_font_size(False)
table.set_fontsize(font_size)
table.scale(1, row_scale)
for column in range(len(column_names)):
    table[0, column].set_facecolor(header_color)
    table[len(row_names) + 1, column].set_facecolor(summary_color)
{stripe_code}ax.set_title({text(title)})
plt.show()
'''
