"""Tables: a small table of measurements drawn with matplotlib's table, with a totals row."""
from __future__ import annotations

import random

from ._common import REGIONS, colors, str_list

NAME = "data_table"
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


def program(rng: random.Random) -> str:
    regions = rng.sample(REGIONS, rng.randint(2, 4))
    quarters = QUARTERS[:rng.randint(2, 4)]
    rows = "\n".join(f"    {[rng.randint(10, 99) for _ in quarters]}," for _ in regions)
    header, total = colors(rng, 2)
    return f'''import matplotlib.pyplot as plt

regions = {str_list(regions)}
quarters = {str_list(quarters)}
units_sold = [
{rows}
]
header_color, total_color = "{header}", "{total}"
font_size = 12
row_scale = 1.6

totals = [sum(column) for column in zip(*units_sold)]
cells = [[str(value) for value in row] for row in units_sold] + [[str(value) for value in totals]]
fig, ax = plt.subplots(figsize=(6, 3))
ax.axis("off")
table = ax.table(cellText=cells, rowLabels=regions + ["Total"], colLabels=quarters, loc="center",
                 cellLoc="center")
table.auto_set_font_size(False)
table.set_fontsize(font_size)
table.scale(1, row_scale)
for column in range(len(quarters)):
    table[0, column].set_facecolor(header_color)
    table[len(regions) + 1, column].set_facecolor(total_color)
ax.set_title("Units sold per region and quarter")
plt.show()
'''
