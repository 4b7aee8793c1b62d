"""The program families: name -> a function that writes one program from a seeded random source.

Each family is one module with `NAME` and `program(rng: random.Random) -> str`; the code it
returns draws one figure with matplotlib and must render in the sandbox (the tests render
every family). Add a family by adding a module and listing it here.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from . import (
    bar_chart,
    circuit,
    cube_net,
    data_table,
    force_diagram,
    function_plot,
    line_chart,
    number_line,
    pie_chart,
    plane_geometry,
    scatter_plot,
    solid_3d,
    surface_3d,
)

WriteProgram = Callable[[random.Random], str]

FAMILIES: dict[str, WriteProgram] = {module.NAME: module.program for module in (
    function_plot, plane_geometry, bar_chart, line_chart, scatter_plot, pie_chart, force_diagram, circuit,
    surface_3d, solid_3d, cube_net, number_line, data_table)}


def describe() -> dict[str, str]:
    """Family name -> the first line of its module's docstring."""
    modules = {m.NAME: m for m in (function_plot, plane_geometry, bar_chart, line_chart, scatter_plot, pie_chart,
                                   force_diagram, circuit, surface_3d, solid_3d, cube_net, number_line, data_table)}
    return {name: (modules[name].__doc__ or "").strip().splitlines()[0] for name in FAMILIES}


def resolve(names: Iterable[str] | str | None) -> tuple[str, ...]:
    """The families to draw from, in the registry's order; all of them for None or empty.

    Raises ValueError naming any unknown family."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    wanted = list(names or ())
    if not wanted:
        return tuple(FAMILIES)
    unknown = [n for n in wanted if n not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown families {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
    return tuple(n for n in FAMILIES if n in set(wanted))
