"""Function plots: a sine, a parabola with its vertex or an exponential, with axes through the origin."""
from __future__ import annotations

import random

from ._common import PALETTE, figure_size, num

NAME = "function_plot"


def _coefficient(value: float) -> str:
    """How a coefficient reads in a formula: 1 and -1 as a bare sign."""
    text = num(value)
    return {"1": "", "-1": "-"}.get(text, text)


def _shift(variable: str, offset: int) -> str:
    """`x - 2`, `x + 3` or just `x`."""
    return variable if offset == 0 else f"{variable} {'-' if offset > 0 else '+'} {abs(offset)}"


def _plus(offset: int) -> str:
    return "" if offset == 0 else f" {'+' if offset > 0 else '-'} {abs(offset)}"


def program(rng: random.Random) -> str:
    kind = rng.choice(("sine", "parabola", "exponential"))
    color = rng.choice(PALETTE)
    if kind == "sine":
        amplitude, frequency = rng.choice((1, 1.5, 2, 3)), rng.choice((0.5, 1, 2))
        params = f"amplitude = {num(amplitude)}\nfrequency = {num(frequency)}\nx_min, x_max = -2 * np.pi, 2 * np.pi\n"
        body = "y = amplitude * np.sin(frequency * x)\n"
        label = "r\"$y = %s\\sin(%sx)$\"" % (_coefficient(amplitude), _coefficient(frequency))
        extra = ""
    elif kind == "parabola":
        a, h, k = rng.choice((0.5, 1, -1, 2, -0.5)), rng.randint(-3, 3), rng.randint(-4, 4)
        params = (f"leading_coefficient = {num(a)}\nvertex_x = {h}\nvertex_y = {k}\n"
                  f"x_min, x_max = vertex_x - 4, vertex_x + 4\n")
        body = "y = leading_coefficient * (x - vertex_x) ** 2 + vertex_y\n"
        square = f"({_shift('x', h)})^2" if h else "x^2"
        label = f"r\"$y = {_coefficient(a)}{square}{_plus(k)}$\""
        extra = ("ax.plot(vertex_x, vertex_y, \"o\", color=\"black\")\n"
                 "ax.annotate(f\"vertex ({vertex_x}, {vertex_y})\", xy=(vertex_x, vertex_y),\n"
                 "            xytext=(10, -15 if leading_coefficient > 0 else 10), textcoords=\"offset points\")\n")
    else:
        base, scale = rng.choice((2, 3, 0.5)), rng.choice((1, 0.5, 2))
        params = f"base = {num(base)}\nscale = {num(scale)}\nx_min, x_max = -3, 3\n"
        body = "y = scale * base ** x\n"
        factor = "" if scale == 1 else num(scale) + " \\cdot "
        label = f"r\"$y = {factor}{num(base)}^x$\""
        extra = ""
    samples = rng.choice((200, 400, 500))
    return (
        "import numpy as np\nimport matplotlib.pyplot as plt\n\n"
        f"{params}sample_count = {samples}\n\n"
        "x = np.linspace(x_min, x_max, sample_count)\n"
        f"{body}\n"
        f"fig, ax = plt.subplots(figsize={figure_size(rng)})\n"
        f"ax.plot(x, y, color=\"{color}\", linewidth=2, label={label})\n"
        f"{extra}"
        "ax.axhline(0, color=\"black\", linewidth=0.8)\n"
        "ax.axvline(0, color=\"black\", linewidth=0.8)\n"
        "ax.set_xlabel(\"x\")\n"
        "ax.set_ylabel(\"y\")\n"
        f"ax.set_title(\"Graph of a {kind} function\")\n"
        "ax.grid(True, linestyle=\"--\", alpha=0.5)\n"
        "ax.legend(loc=\"best\")\n\n"
        "plt.tight_layout()\n"
        "plt.show()\n"
    )
