"""Contour plots: level curves of f(x, y) (hills, saddles, the potential of point charges, Rosenbrock's
valley, a wave pattern) as labelled lines, filled bands with a colour bar, or both, with the extrema
or the charges marked."""
from __future__ import annotations

import random

from . import _text
from ._common import COLORMAPS, colors, figure_size, num, text

NAME = "contour_plot"


def _shift(variable: str, centre: float) -> str:
    """`x - 1`, `x + 0.5` or `x`: the variable measured from a centre."""
    return variable if centre == 0 else f"{variable} {'-' if centre > 0 else '+'} {num(abs(centre))}"


def _function(rng: random.Random) -> tuple[str, str, str, float]:
    """(name, numpy expression in x and y, its formula in mathtext, the half width of the grid)."""
    a, b = rng.choice((0.5, 1, 1.5, 2, 3)), rng.choice((0.5, 1, 2, 3))
    dx, dy = _shift("x", rng.choice((-1, -0.5, 0.5, 1))), _shift("y", rng.choice((-1, 0, 1)))
    kind = rng.choice(("two hills", "saddle", "bowl", "wave", "Rosenbrock valley", "ring", "tilted plane and bump"))
    if kind == "two hills":
        return (kind, f"np.exp(-(({dx}) ** 2 + y ** 2)) + {num(b / 2)} * np.exp(-((x + 1) ** 2 + ({dy}) ** 2))",
                f"e^{{-({dx})^2 - y^2}} + {num(b / 2)}e^{{-(x + 1)^2 - ({dy})^2}}", 3)
    if kind == "saddle":
        return kind, f"{num(a)} * x ** 2 - {num(b)} * y ** 2", f"{num(a)}x^2 - {num(b)}y^2", rng.choice((2, 3))
    if kind == "bowl":
        return kind, f"{num(a)} * ({dx}) ** 2 + {num(b)} * ({dy}) ** 2", f"{num(a)}({dx})^2 + {num(b)}({dy})^2", 3
    if kind == "wave":
        return kind, f"np.sin({num(a)} * x) * np.cos({num(b)} * y)", rf"\sin({num(a)}x)\cos({num(b)}y)", 4
    if kind == "Rosenbrock valley":
        return kind, f"(1 - x) ** 2 + {int(a * 50)} * (y - x ** 2) ** 2", f"(1 - x)^2 + {int(a * 50)}(y - x^2)^2", 2
    if kind == "ring":
        return (kind, f"np.cos({num(a)} * np.hypot(x, y)) * np.exp(-np.hypot(x, y) / {num(b * 2)})",
                rf"\cos({num(a)}r)\,e^{{-r/{num(b * 2)}}}", 8)
    return (kind, f"{num(a / 5)} * x + {num(b / 5)} * y + np.exp(-(x ** 2 + y ** 2))",
            f"{num(a / 5)}x + {num(b / 5)}y + e^{{-(x^2 + y^2)}}", 3)


CHARGE_NAMES = ("q1", "q2", "q3")


def _field(rng: random.Random) -> tuple[str, str, str, str]:
    """(parameters and z code, what is drawn on top, title, colour bar label)."""
    if rng.random() < 0.3:  # the potential of two or three point charges
        count = rng.choice((2, 2, 3))
        charges = [(rng.choice((-3, -2, -1, 1, 2, 3)), round(rng.uniform(-1.5, 1.5), 1),
                    round(rng.uniform(-1.5, 1.5), 1)) for _ in range(count)]
        charge_lines = "\n".join(f'    "{n}": ({q}, {x}, {y}),'
                                 for n, (q, x, y) in zip(CHARGE_NAMES, charges, strict=False))
        code = f'''half_width = 3
# name: (charge, x, y)
charges = {{
{charge_lines}
}}
x, y = np.meshgrid(np.linspace(-half_width, half_width, grid_points), np.linspace(-half_width, half_width, grid_points))
z = sum(q / np.maximum(np.hypot(x - cx, y - cy), 0.2) for q, cx, cy in charges.values())
'''
        marks = '''for name, (q, cx, cy) in charges.items():
    ax.plot(cx, cy, "o", color="red" if q > 0 else "blue", markersize=10, markeredgecolor="black")
    ax.annotate(f"{name} = {q:+d}", (cx, cy), xytext=(6, 6), textcoords="offset points")
'''
        title = rng.choice(("Equipotential lines of point charges", f"Potential of {count} point charges",
                            "Electric potential (arbitrary units)"))
        return code, marks, title, rng.choice(("Potential (V)", "V", "potential"))
    name, expression, formula, half = _function(rng)
    code = f'''half_width = {half}
x, y = np.meshgrid(np.linspace(-half_width, half_width, grid_points), np.linspace(-half_width, half_width, grid_points))
z = {expression}
'''
    marks = ""
    if rng.random() < 0.5:
        marks = f'''peak = np.unravel_index(np.argmax(z), z.shape)
low = np.unravel_index(np.argmin(z), z.shape)
ax.plot(x[peak], y[peak], "^", color="{rng.choice(("black", "red", "white"))}", markersize=9, label="maximum")
ax.plot(x[low], y[low], "v", color="{rng.choice(("black", "blue", "white"))}", markersize=9, label="minimum")
ax.legend(loc="upper right", fontsize=8)
'''
    title = rng.choice((f"Contours of the {name}", f"Level curves of $f = {formula}$", f"$f(x, y) = {formula}$",
                        f"{name.capitalize()}: $f = {formula}$"))
    if rng.random() < 0.3:
        q = _text.quantity(rng)
        return code, marks, _text.title(rng, q), _text.axis_label(rng, q)
    return code, marks, title, rng.choice(("f(x, y)", "z", "height", "level"))


def program(rng: random.Random) -> str:
    field, marks, title, bar_label = _field(rng)
    style = rng.choice(("lines", "filled", "both"))
    levels = rng.choice((8, 10, 12, 15, 20))
    colormap = rng.choice(COLORMAPS)
    if style == "lines":
        line_color = rng.choice((f'colors="{colors(rng, 1)[0]}"', f'cmap="{colormap}"'))
        drawing = (f"lines = ax.contour(x, y, z, levels=levels, {line_color}, "
                   f"linewidths={num(rng.choice((0.8, 1, 1.5)))})\n"
                   f'ax.clabel(lines, fontsize={rng.choice((7, 8, 9))}, fmt="%{rng.choice((".1f", ".2f", ".2g"))}")\n')
    elif style == "filled":
        drawing = ('bands = ax.contourf(x, y, z, levels=levels, cmap=colormap)\n'
                   f"fig.colorbar(bands, ax=ax, label={text(bar_label)})\n")
    else:
        drawing = ('bands = ax.contourf(x, y, z, levels=levels, cmap=colormap, alpha=0.8)\n'
                   f'ax.contour(x, y, z, levels=levels, colors="black", linewidths=0.5)\n'
                   f"fig.colorbar(bands, ax=ax, label={text(bar_label)})\n")
    x_label, y_label = rng.choice((("x", "y"), ("$x$", "$y$"), ("x (m)", "y (m)"), ("x (cm)", "y (cm)")))
    return f'''import numpy as np
import matplotlib.pyplot as plt

grid_points = {rng.choice((100, 150, 200))}
levels = {levels}
colormap = "{colormap}"
{field}
fig, ax = plt.subplots(figsize={figure_size(rng, rng.choice(("square", "wide")))})
{drawing}{marks}ax.set_aspect("equal")
ax.set_xlabel({text(x_label)})
ax.set_ylabel({text(y_label)})
ax.set_title({text(rng.choice((_text.caption_number, _text.exercise_prefix))(rng) + title)})
plt.tight_layout()
plt.show()
'''
