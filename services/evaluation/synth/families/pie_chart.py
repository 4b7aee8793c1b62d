"""Pie charts: shares of a budget with percentages, one slice pulled out."""
from __future__ import annotations

import random

from ._common import colors, str_list

NAME = "pie_chart"
ITEMS = ("Rent", "Food", "Transport", "Savings", "Leisure", "Utilities")


def program(rng: random.Random) -> str:
    items = rng.sample(ITEMS, rng.randint(3, 6))
    amounts = [rng.randint(1, 20) * 50 for _ in items]
    highlighted = rng.randrange(len(items))
    start_angle = rng.choice((0, 90, 140))
    return f'''import matplotlib.pyplot as plt

budget_items = {str_list(items)}
monthly_cost = {amounts}
slice_colors = {str_list(colors(rng, len(items)))}
highlighted_item = "{items[highlighted]}"
pull_out = 0.08
start_angle = {start_angle}

explode = [pull_out if item == highlighted_item else 0 for item in budget_items]
fig, ax = plt.subplots(figsize=(6, 6))
ax.pie(monthly_cost, labels=budget_items, colors=slice_colors, explode=explode, autopct="%1.1f%%",
       startangle=start_angle, wedgeprops={{"edgecolor": "white"}})
ax.set_title(f"Monthly budget: {{sum(monthly_cost)}} in all")
ax.axis("equal")
plt.show()
'''
