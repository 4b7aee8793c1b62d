"""What the family templates share: number formatting, palettes and word lists.

A template writes a program as a person would: parameters first, each a named variable
with its value spelled out, then the drawing code that reads them.
"""
from __future__ import annotations

import random

# matplotlib's tab10 names: readable in code and distinct in the image.
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
           "tab:gray", "tab:olive", "tab:cyan")
CATEGORY_WORDS = ("Apples", "Pears", "Plums", "Cherries", "Grapes", "Lemons", "Mangoes", "Peaches")
REGIONS = ("North", "South", "East", "West", "Central")
SERIES_NAMES = ("Sensor A", "Sensor B", "Sensor C")
POINT_NAMES = "ABCDEFGH"


def num(value: float, digits: int = 2) -> str:
    """A literal as a person types it: 2, 2.5, -0.75 (never 2.5000000001)."""
    rounded = round(float(value), digits)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def num_list(values, digits: int = 2) -> str:
    return "[" + ", ".join(num(v, digits) for v in values) + "]"


def str_list(values) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


def colors(rng: random.Random, count: int) -> list[str]:
    return rng.sample(PALETTE, count)


def figure_size(rng: random.Random) -> str:
    return rng.choice(("(6, 4)", "(7, 4.5)", "(6.4, 4.8)", "(8, 5)"))
