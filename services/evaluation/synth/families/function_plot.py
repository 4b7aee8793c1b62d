"""Function plots: sines, parabolas, cubics, exponentials, logarithms, damped oscillations, Gaussians
and logistic curves; one curve, a family over a parameter, two curves with the area between them,
or a function beside its derivative; axes through the origin or boxed."""
from __future__ import annotations

import random
from dataclasses import dataclass

from . import _text
from ._common import (
    LEGEND_PLACES,
    colors,
    figure_size,
    grid_line,
    line_style,
    line_width,
    num,
    panel_size,
    str_list,
    style_sheet,
    text,
    variant,
)

NAME = "function_plot"


@dataclass(frozen=True)
class Curve:
    kind: str
    params: dict[str, float]  # name -> value, assigned at the top of the program
    expression: str  # numpy, in x and the parameters
    formula: str  # mathtext of the curve with the values in
    x_range: tuple[str, str]  # code for x_min, x_max
    swept: str  # the parameter a family of curves varies


def _c(value: float) -> str:
    """A coefficient in a formula: 1 and -1 as a bare sign."""
    return {"1": "", "-1": "-"}.get(num(value), num(value))


def _signed(value: float) -> str:
    return "" if value == 0 else f" {'+' if value > 0 else '-'} {num(abs(value))}"


def _curve(rng: random.Random, kind: str | None = None) -> Curve:
    kind = kind or rng.choice(("sine", "cosine", "parabola", "cubic", "exponential", "logarithm", "damped",
                               "gaussian", "logistic", "square_root"))
    if kind in ("sine", "cosine"):
        a, w = rng.choice((0.5, 1, 1.5, 2, 3)), rng.choice((0.5, 1, 2, 3))
        fn = "sin" if kind == "sine" else "cos"
        return Curve(kind, {"amplitude": a, "frequency": w}, f"amplitude * np.{fn}(frequency * x)",
                     rf"$y = {_c(a)}\{fn}({_c(w)}x)$", ("-2 * np.pi", "2 * np.pi"), "frequency")
    if kind == "parabola":
        a, h, k = rng.choice((0.5, 1, -1, 2, -0.5, 0.25)), rng.randint(-3, 3), rng.randint(-4, 4)
        square = f"(x{_signed(-h)})^2" if h else "x^2"
        return Curve(kind, {"leading_coefficient": a, "vertex_x": h, "vertex_y": k},
                     "leading_coefficient * (x - vertex_x) ** 2 + vertex_y", f"$y = {_c(a)}{square}{_signed(k)}$",
                     ("vertex_x - 4", "vertex_x + 4"), "leading_coefficient")
    if kind == "cubic":
        a, b = rng.choice((0.1, 0.2, 0.5, -0.2, 1)), rng.choice((-3, -2, -1, 1, 2))
        return Curve(kind, {"cubic_coefficient": a, "linear_coefficient": b},
                     "cubic_coefficient * x ** 3 + linear_coefficient * x", f"$y = {_c(a)}x^3{_signed(b)}x$",
                     ("-4", "4"), "linear_coefficient")
    if kind == "exponential":
        base, scale = rng.choice((2, 3, 0.5, 1.5, 10)), rng.choice((1, 0.5, 2, 3))
        factor = "" if scale == 1 else num(scale) + r" \cdot "
        return Curve(kind, {"base": base, "scale": scale}, "scale * base ** x", f"$y = {factor}{num(base)}^x$",
                     ("-3", "3") if base != 10 else ("-1", "1.5"), "base")
    if kind == "logarithm":
        a, c = rng.choice((1, 2, 0.5, -1)), rng.randint(-2, 2)
        return Curve(kind, {"log_scale": a, "offset": c}, "log_scale * np.log(x) + offset",
                     rf"$y = {_c(a)}\ln x{_signed(c)}$", ("0.05", str(rng.choice((5, 8, 10)))), "log_scale")
    if kind == "damped":
        a, g, w = rng.choice((1, 2, 5)), rng.choice((0.1, 0.2, 0.3, 0.5)), rng.choice((1, 2, 3, 4))
        return Curve(kind, {"amplitude": a, "damping": g, "angular_frequency": w},
                     "amplitude * np.exp(-damping * x) * np.cos(angular_frequency * x)",
                     rf"$x(t) = {_c(a)}e^{{-{num(g)}t}}\cos({_c(w)}t)$", ("0", str(rng.choice((10, 15, 20)))),
                     "damping")
    if kind == "gaussian":
        a, mu, s = rng.choice((1, 2, 0.5)), rng.randint(-2, 2), rng.choice((0.5, 1, 1.5, 2))
        return Curve(kind, {"peak": a, "mean": mu, "width": s}, "peak * np.exp(-((x - mean) ** 2) / (2 * width ** 2))",
                     rf"$y = {_c(a)}e^{{-(x{_signed(-mu)})^2 / {num(2 * s * s)}}}$", ("mean - 5", "mean + 5"), "width")
    if kind == "logistic":
        top, k, x0 = rng.choice((1, 10, 100)), rng.choice((0.5, 1, 2)), rng.randint(-2, 4)
        return Curve(kind, {"capacity": top, "rate": k, "midpoint": x0},
                     "capacity / (1 + np.exp(-rate * (x - midpoint)))",
                     rf"$y = \frac{{{num(top)}}}{{1 + e^{{-{num(k)}(x{_signed(-x0)})}}}}$",
                     ("midpoint - 8", "midpoint + 8"), "rate")
    a = rng.choice((1, 2, 0.5, 3))
    return Curve("square_root", {"scale": a}, "scale * np.sqrt(x)", rf"$y = {_c(a)}\sqrt{{x}}$",
                 ("0", str(rng.choice((4, 9, 16, 25)))), "scale")


def _axes_style(rng: random.Random) -> str:
    """Axes through the origin as spines, as thin lines, or a plain box."""
    style = rng.choice(("spines", "lines", "lines", "box"))
    if style == "spines":
        return ('ax.spines[["left", "bottom"]].set_position("zero")\n'
                'ax.spines[["top", "right"]].set_visible(False)\n')
    if style == "lines":
        return (f'ax.axhline(0, color="black", linewidth={num(rng.choice((0.6, 0.8, 1)))})\n'
                f'ax.axvline(0, color="black", linewidth={num(rng.choice((0.6, 0.8, 1)))})\n')
    return ""


def _labels(rng: random.Random, curve: Curve) -> tuple[str, str]:
    if curve.kind == "damped":
        return rng.choice((("$t$ (s)", "$x$ (cm)"), ("Time (s)", "Displacement (cm)"), ("t", "x(t)")))
    return rng.choice((("x", "y"), ("$x$", "$y$"), ("$x$", "$f(x)$"), ("x", "f(x)")))


def _params(curve: Curve) -> str:
    return "".join(f"{name} = {num(value)}\n" for name, value in curve.params.items())


def _one(rng: random.Random) -> str:
    curve = _curve(rng)
    x_label, y_label = _labels(rng, curve)
    color = colors(rng, 1)[0]
    extra = ""
    if curve.kind == "parabola" and rng.random() < 0.7:
        extra = ('ax.plot(vertex_x, vertex_y, "o", color="black")\n'
                 'ax.annotate(f"vertex ({vertex_x}, {vertex_y})", xy=(vertex_x, vertex_y),\n'
                 '            xytext=(10, -15 if leading_coefficient > 0 else 10), textcoords="offset points")\n')
    legend = f"ax.legend(loc={text(rng.choice(LEGEND_PLACES))})\n" if rng.random() < 0.7 else ""
    name = curve.kind.replace("_", " ")
    titles = [f"Graph of a {name} function", curve.formula, f"The {name} curve " + curve.formula]
    if not any(c.isalpha() for c in "".join(curve.x_range).replace("np.pi", "")):  # a numeric domain
        domain = f"[{curve.x_range[0]}, {curve.x_range[1]}]".replace("np.pi", "π").replace(" * ", "")
        titles.append(_text.caption_number(rng) + f"{name.capitalize()} on {domain}")
    title = rng.choice(titles)
    return (
        f"import numpy as np\nimport matplotlib.pyplot as plt\n\n{style_sheet(rng, 0.2)}"
        f"{_params(curve)}x_min, x_max = {curve.x_range[0]}, {curve.x_range[1]}\n"
        f"sample_count = {rng.choice((200, 300, 400, 500))}\n\n"
        "x = np.linspace(x_min, x_max, sample_count)\n"
        f"y = {curve.expression}\n\n"
        f"fig, ax = plt.subplots(figsize={figure_size(rng)})\n"
        f'ax.plot(x, y, color="{color}", linewidth={line_width(rng)}, linestyle="{line_style(rng, 0.8)}", '
        f"label={text(curve.formula)})\n"
        f"{extra}{_axes_style(rng)}"
        f"ax.set_xlabel({text(x_label)})\n"
        f"ax.set_ylabel({text(y_label)})\n"
        f"ax.set_title({text(title)})\n"
        f"{grid_line(rng)}{legend}\n"
        "plt.tight_layout()\n"
        "plt.show()\n"
    )


def _family(rng: random.Random) -> str:
    """One curve kind for several values of one parameter."""
    curve = _curve(rng, rng.choice(("sine", "parabola", "exponential", "damped", "gaussian", "logistic", "cubic")))
    base = curve.params[curve.swept]
    factors = rng.choice(((0.5, 1, 2), (1, 2, 3), (0.5, 1, 1.5, 2), (1, 1.5, 2, 2.5, 3)))
    if curve.swept in ("leading_coefficient", "linear_coefficient") and rng.random() < 0.4:
        factors = rng.choice(((-1, 1), (-2, -1, 1, 2)))  # both signs: opening up and down
    values = sorted({float(num(base * f)) for f in factors if base * f != 0})
    if curve.kind == "exponential" and curve.swept == "base":
        values = [v for v in values if v > 0 and v != 1] or [2.0, 3.0]
    params = {k: v for k, v in curve.params.items() if k != curve.swept}
    x_label, y_label = _labels(rng, curve)
    swept_symbol = {"frequency": r"\omega", "leading_coefficient": "a", "base": "b", "damping": r"\gamma",
                    "width": r"\sigma", "rate": "k", "linear_coefficient": "b"}[curve.swept]
    return (
        f"import numpy as np\nimport matplotlib.pyplot as plt\n\n{style_sheet(rng, 0.2)}"
        + "".join(f"{name} = {num(value)}\n" for name, value in params.items())
        + f"{curve.swept}_values = [{', '.join(num(v) for v in values)}]\n"
        f"x_min, x_max = {curve.x_range[0]}, {curve.x_range[1]}\n"
        f"line_colors = {str_list(colors(rng, len(values)))}\n\n"
        f"fig, ax = plt.subplots(figsize={figure_size(rng)})\n"
        f"for {curve.swept}, color in zip({curve.swept}_values, line_colors):\n"
        "    x = np.linspace(x_min, x_max, 400)\n"
        f"    y = {curve.expression}\n"
        f'    ax.plot(x, y, color=color, linewidth={line_width(rng)}, label=rf"${swept_symbol} = {{{curve.swept}}}$")\n'
        f"{_axes_style(rng)}"
        f"ax.set_xlabel({text(x_label)})\n"
        f"ax.set_ylabel({text(y_label)})\n"
        f"ax.set_title({text(rng.choice(('The ', 'A family of ', '')) + curve.kind.replace('_', ' ') + ' curves')})\n"
        f"ax.legend(title={text(rng.choice(('', 'parameter', curve.swept.replace('_', ' '))))}, "
        f"loc={text(rng.choice(LEGEND_PLACES))})\n"
        f"{grid_line(rng)}\n"
        "plt.tight_layout()\n"
        "plt.show()\n"
    )


def _between(rng: random.Random) -> str:
    """A line and a parabola, the area between their intersections shaded."""
    a, c = rng.choice((1, 0.5, 2)), rng.randint(-4, -1)
    m, b = rng.choice((-1, 0, 1, 2)), rng.randint(0, 3)
    first, second = colors(rng, 2)
    line = f"{_c(m)}x{_signed(b)}" if m else f"{b}"
    shade = rng.choice(("gray", "gold", "lightblue", "lightgreen", "pink"))
    return f'''import numpy as np
import matplotlib.pyplot as plt

# f(x) = a x^2 + c and g(x) = m x + b
a, c = {num(a)}, {c}
m, b = {m}, {b}
x = np.linspace(-5, 5, 500)
f = a * x ** 2 + c
g = m * x + b

# f = g where a x^2 - m x + (c - b) = 0
roots = np.sort(np.roots([a, -m, c - b]).real)
between = (x >= roots[0]) & (x <= roots[1])

fig, ax = plt.subplots(figsize={figure_size(rng)})
ax.plot(x, f, color="{first}", linewidth=2, label=r"$f(x) = {_c(a)}x^2{_signed(c)}$")
ax.plot(x, g, color="{second}", linewidth=2, linestyle="{line_style(rng, 0.5)}", label=r"$g(x) = {line}$")
ax.fill_between(x, f, g, where=between, color="{shade}", alpha=0.4, label="region between")
ax.plot(roots, m * roots + b, "o", color="black")
for root in roots:
    ax.annotate(f"x = {{root:.2f}}", xy=(root, m * root + b), xytext=(5, 8), textcoords="offset points")
{_axes_style(rng)}ax.set_ylim(min(c, 0) - 2, max(m * 5 + b, -m * 5 + b, 10))
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title({text(rng.choice(("Area between a parabola and a line", "Region enclosed by f and g",
                                 "Where f and g meet")))})
ax.legend(loc="upper center")
plt.tight_layout()
plt.show()
'''


def _with_derivative(rng: random.Random) -> str:
    curve = _curve(rng, rng.choice(("sine", "cosine", "cubic", "gaussian", "logistic", "damped", "parabola")))
    rows, cols = rng.choice(((1, 2), (2, 1)))
    first, second = colors(rng, 2)
    return (
        f"import numpy as np\nimport matplotlib.pyplot as plt\n\n{style_sheet(rng, 0.2)}"
        f"{_params(curve)}x_min, x_max = {curve.x_range[0]}, {curve.x_range[1]}\n\n"
        "x = np.linspace(x_min, x_max, 400)\n"
        f"y = {curve.expression}\n"
        "slope = np.gradient(y, x)  # the derivative, numerically\n\n"
        f"fig, (top, bottom) = plt.subplots({rows}, {cols}, figsize={panel_size(rng, rows, cols)})\n"
        f'top.plot(x, y, color="{first}", linewidth={line_width(rng)})\n'
        f"top.set_title({text(curve.formula)})\n"
        f'bottom.plot(x, slope, color="{second}", linewidth={line_width(rng)}, linestyle="{line_style(rng)}")\n'
        f"bottom.set_title({text(rng.choice(('Its derivative', 'Derivative', 'Slope of the curve')))})\n"
        "for ax, label in ((top, \"y\"), (bottom, \"dy/dx\")):\n"
        '    ax.axhline(0, color="gray", linewidth=0.8)\n'
        '    ax.set_xlabel("x")\n'
        "    ax.set_ylabel(label)\n"
        "    ax.grid(True, alpha=0.3)\n"
        "plt.tight_layout()\n"
        "plt.show()\n"
    )


def program(rng: random.Random) -> str:
    return variant(rng, ((0.5, _one), (0.7, _family), (0.85, _between)), otherwise=_with_derivative)
