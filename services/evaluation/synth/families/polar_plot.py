"""Polar plots: rose curves, cardioids, limaçons, spirals and lemniscates on polar axes, an antenna's
radiation pattern, or a wind rose (bars by compass direction); zero at the east or the north,
clockwise or not."""
from __future__ import annotations

import random

from . import _text
from ._common import SEQUENTIAL_COLORMAPS, colors, figure_size, line_width, num, num_list, str_list, text, variant

NAME = "polar_plot"
DIRECTIONS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _curves(rng: random.Random) -> str:
    kind = rng.choice(("rose", "cardioid", "limacon", "spiral", "lemniscate", "circle"))
    a = rng.choice((1, 1.5, 2, 3))
    if kind == "rose":
        k = rng.choice((2, 3, 4, 5))
        params, expression, formula = f"petal_length = {num(a)}\npetals_k = {k}\n", \
            "petal_length * np.abs(np.cos(petals_k * theta))", rf"$r = {num(a)}|\cos({k}\theta)|$"
        domain = "0, 2 * np.pi"
    elif kind == "cardioid":
        params, expression, formula = f"a = {num(a)}\n", "a * (1 + np.cos(theta))", rf"$r = {num(a)}(1 + \cos\theta)$"
        domain = "0, 2 * np.pi"
    elif kind == "limacon":
        b = a * rng.choice((0.3, 0.5, 0.8))  # b < a: no inner loop, so r stays positive
        params, expression, formula = f"a, b = {num(a)}, {num(b)}\n", "a + b * np.sin(theta)", \
            rf"$r = {num(a)} + {num(b)}\sin\theta$"
        domain = "0, 2 * np.pi"
    elif kind == "spiral":
        turns = rng.choice((2, 3, 4))
        params, expression, formula = f"growth = {num(a / 4)}\nturns = {turns}\n", "growth * theta", \
            rf"$r = {num(a / 4)}\theta$"
        domain = "0, 2 * np.pi * turns"
    elif kind == "lemniscate":
        params, expression, formula = f"a = {num(a)}\n", "a * np.sqrt(np.clip(np.cos(2 * theta), 0, None))", \
            rf"$r^2 = {num(a * a)}\cos 2\theta$"
        domain = "0, 2 * np.pi"
    else:
        params, expression, formula = f"diameter = {num(a)}\n", "diameter * np.cos(theta)", rf"$r = {num(a)}\cos\theta$"
        domain = "-np.pi / 2, np.pi / 2"
    second = ""
    if rng.random() < 0.3:
        second_color = colors(rng, 1)[0]
        radius = num(a * rng.choice((0.5, 0.75, 1)))
        second = (f'ax.plot(theta, np.full_like(theta, {radius}), color="{second_color}", linestyle="--", '
                  f'label="r = {radius}")\n')
    fill = (f"ax.fill(theta, r, alpha={num(rng.choice((0.15, 0.25, 0.35)))}, color=curve_color)\n"
            if kind in ("rose", "cardioid", "limacon") and rng.random() < 0.5 else "")
    legend = 'ax.legend(loc="upper right", bbox_to_anchor=(1.25, 1.1))\n' if second or rng.random() < 0.3 else ""
    title = _text.exercise_prefix(rng) + rng.choice((
        f"{'Limaçon' if kind == 'limacon' else kind.capitalize()} {formula}", formula,
        f"A {'limaçon' if kind == 'limacon' else kind} in polar coordinates", f"Polar graph of {formula}"))
    return f'''import numpy as np
import matplotlib.pyplot as plt

{params}curve_color = "{colors(rng, 1)[0]}"
theta = np.linspace({domain}, {rng.choice((400, 600, 800, 1000))})
r = {expression}

fig, ax = plt.subplots(figsize={figure_size(rng, "square")}, subplot_kw={{"projection": "polar"}})
ax.plot(theta, r, color=curve_color, linewidth={line_width(rng)}, label={text(formula)})
{fill}{second}{_orientation(rng)}{legend}ax.set_title({text(title)}, pad=20)
fig.tight_layout()
plt.show()
'''


def _orientation(rng: random.Random) -> str:
    code = ""
    if rng.random() < 0.3:
        code += 'ax.set_theta_zero_location("N")\n'
    if rng.random() < 0.25:
        code += "ax.set_theta_direction(-1)  # clockwise\n"
    if rng.random() < 0.3:
        code += f"ax.set_rlabel_position({rng.choice((0, 22.5, 45, 90, 135))})\n"
    return code


def _antenna(rng: random.Random) -> str:
    lobes = rng.choice((1, 2, 3, 4))
    sharpness = rng.choice((2, 4, 6, 8))
    patterns = rng.choice((1, 1, 2))
    colours = colors(rng, patterns)
    title = _text.caption_number(rng) + rng.choice((
        "Radiation pattern (dB)", "Antenna gain pattern", "Normalised gain in dB",
        f"{_text.made_up_name(rng)} antenna pattern"))
    lines = [f"    \"{name}\": ({lobes + i}, {sharpness + 2 * i}),"
             for i, name in enumerate(rng.sample(("E-plane", "H-plane", "Dipole", "Array", "Horn", "Patch"), patterns))]
    return f'''import numpy as np
import matplotlib.pyplot as plt

# name: (lobes, sharpness) of a pattern |cos(lobes * theta)| ** sharpness, in dB below its peak
patterns = {{
{chr(10).join(lines)}
}}
line_colors = {str_list(colours)}
floor_db = {rng.choice((-30, -40))}

theta = np.linspace(0, 2 * np.pi, 720)
fig, ax = plt.subplots(figsize={figure_size(rng, "square")}, subplot_kw={{"projection": "polar"}})
for (name, (lobes, sharpness)), color in zip(patterns.items(), line_colors):
    power = np.abs(np.cos(lobes * theta)) ** sharpness
    gain_db = np.maximum(10 * np.log10(power + 1e-12), floor_db)
    ax.plot(theta, gain_db, color=color, linewidth=1.5, label=name)
ax.set_ylim(floor_db, 0)
{_orientation(rng)}ax.legend(loc="lower left", bbox_to_anchor=(-0.15, -0.15), fontsize=8)
ax.set_title({text(title)}, pad=20)
fig.tight_layout()
plt.show()
'''


def _wind_rose(rng: random.Random) -> str:
    sectors = rng.choice((8, 8, 16, 12))
    if sectors == 8:
        labels = list(DIRECTIONS)
    else:
        labels = [f"{round(i * 360 / sectors)}°" for i in range(sectors)]
    values = [rng.uniform(1, 20) for _ in range(sectors)]
    colormap = rng.choice(SEQUENTIAL_COLORMAPS)
    title = _text.caption_number(rng) + rng.choice((
        "Wind rose", f"Wind direction at {rng.choice(_text.PLACES)} {_text.made_up_name(rng)}",
        "Share of hours by wind direction (%)", "Where the wind comes from"))
    return f'''import numpy as np
import matplotlib.pyplot as plt

directions = {str_list(labels)}
share_percent = {num_list(values, 1)}
colormap = "{colormap}"

angles = np.linspace(0, 2 * np.pi, len(directions), endpoint=False)
width = 2 * np.pi / len(directions) * {num(rng.choice((0.8, 0.9, 1)))}
fig, ax = plt.subplots(figsize={figure_size(rng, "square")}, subplot_kw={{"projection": "polar"}})
ax.set_theta_zero_location("N")
ax.set_theta_direction(-1)  # clockwise, as on a compass
bar_colors = plt.get_cmap(colormap)(np.array(share_percent) / max(share_percent))
ax.bar(angles, share_percent, width=width, color=bar_colors, edgecolor="{rng.choice(("black", "white", "gray"))}")
ax.set_xticks(angles, directions)
ax.set_title({text(title)}, pad=20)
fig.tight_layout()
plt.show()
'''


def program(rng: random.Random) -> str:
    return variant(rng, ((0.6, _curves), (0.8, _antenna)), otherwise=_wind_rose)
