"""Pie and donut charts: shares of a whole with percentages, some slices pulled out, labels on the
slices or in a legend; some as two pies side by side."""
from __future__ import annotations

import random

from . import _text
from ._common import colors, figure_size, num, panel_size, str_list, style_sheet, text

NAME = "pie_chart"
WHOLES = (  # what the slices divide, and how a slice's amount is counted
    ("Monthly budget", ("Rent", "Food", "Transport", "Savings", "Leisure", "Utilities", "Health", "Books"), "€"),
    ("Energy mix", ("Solar", "Wind", "Hydro", "Nuclear", "Gas", "Coal", "Biomass"), "TWh"),
    ("Composition of dry air", ("Nitrogen", "Oxygen", "Argon", "Carbon dioxide", "Neon"), "parts"),
    ("Land use", ("Forest", "Cropland", "Pasture", "Urban", "Wetland", "Water"), "km²"),
    ("Blood types", ("O+", "A+", "B+", "AB+", "O-", "A-"), "donors"),
    ("Elements in the sample", ("Iron", "Silicon", "Oxygen", "Magnesium", "Sulfur", "Nickel"), "g"),
    ("Time spent", ("Lectures", "Lab work", "Reading", "Exercises", "Projects"), "h"),
    ("Water use", ("Agriculture", "Industry", "Households", "Cooling", "Other"), "million m³"),
)
AUTOPCT = ("%1.1f%%", "%1.0f%%", "%.2f%%")


def _slices(rng: random.Random) -> tuple[str, list[str], str]:
    if rng.random() < 0.6:
        whole, items, unit = rng.choice(WHOLES)
        return whole, rng.sample(items, rng.randint(3, min(7, len(items)))), unit
    count = rng.randint(3, 7)
    return (f"{rng.choice(_text.PLACES)} {rng.choice(('shares', 'composition', 'breakdown'))}",
            _text.labels(rng, count), rng.choice(("units", "samples", "kg", "cases", "counts")))


def _one(rng: random.Random) -> str:
    whole, items, unit = _slices(rng)
    amounts = [rng.randint(1, 40) * rng.choice((1, 5, 10)) for _ in items]
    donut = rng.random() < 0.3
    in_legend = rng.random() < 0.3
    pulled = rng.sample(range(len(items)), rng.choice((0, 1, 1, 2)))
    wedge = f'{{"edgecolor": "{rng.choice(("white", "black"))}"' + \
        (f', "width": {num(rng.choice((0.35, 0.45, 0.55)))}}}' if donut else "}")
    labels = "labels=None" if in_legend else "labels=items"
    legend = (f'ax.legend(items, title={text(unit)}, loc="center left", bbox_to_anchor=(1, 0.5))\n'
              'fig.subplots_adjust(left=0.05, right=0.7)  # room for the legend at the right\n' if in_legend else "")
    pct = f', autopct="{rng.choice(AUTOPCT)}", pctdistance={num(0.78 if donut else rng.choice((0.6, 0.7)))}'
    centre = ""
    if donut:
        centre = 'ax.text(0, 0, f"{sum(amounts)}\\n" + unit, ha="center", va="center", fontsize=12)\n'
    title = 'f"' + whole + ': {sum(amounts)} {unit}"' if rng.random() < 0.5 else text(whole)
    return f'''import matplotlib.pyplot as plt

{style_sheet(rng, 0.2)}items = {str_list(items)}
amounts = {amounts}
unit = {text(unit)}
slice_colors = {str_list(colors(rng, len(items)))}
pulled_out = {str_list(items[i] for i in sorted(pulled))}
pull_distance = {num(rng.choice((0.05, 0.08, 0.1, 0.15)))}
start_angle = {rng.choice((0, 45, 90, 140, 180, 270))}

explode = [pull_distance if item in pulled_out else 0 for item in items]
fig, ax = plt.subplots(figsize={figure_size(rng, "wide" if in_legend else "square")})
ax.pie(amounts, {labels}, colors=slice_colors, explode=explode{pct},
       startangle=start_angle, counterclock={rng.random() < 0.7}, wedgeprops={wedge})
{centre}{legend}ax.set_title({title})
ax.axis("equal")
plt.show()
'''


def _two(rng: random.Random) -> str:
    """The same items in two years (or sites), side by side."""
    whole, items, unit = _slices(rng)
    first, second = sorted(rng.sample(range(1990, 2026), 2))
    rows = "\n".join(f"    {year}: {[rng.randint(1, 40) * 5 for _ in items]}," for year in (first, second))
    return f'''import matplotlib.pyplot as plt

items = {str_list(items)}
amounts_by_year = {{
{rows}
}}
slice_colors = {str_list(colors(rng, len(items)))}

fig, axes = plt.subplots(1, 2, figsize={panel_size(rng, 1, 2)})
for ax, (year, amounts) in zip(axes, amounts_by_year.items()):
    ax.pie(amounts, labels=items, colors=slice_colors, autopct="{rng.choice(AUTOPCT)}", startangle=90,
           textprops={{"fontsize": 8}})
    ax.set_title(f"{{year}} ({{sum(amounts)}} {unit})")
fig.suptitle({text(whole)})
plt.show()
'''


def program(rng: random.Random) -> str:
    return _two(rng) if rng.random() < 0.2 else _one(rng)
