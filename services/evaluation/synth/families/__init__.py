"""The program families: name -> a function that writes one program from a seeded random source.

Each family is one module with `NAME` and `program(rng: random.Random) -> str`; the code it
returns draws one figure with matplotlib and must render in the sandbox (the tests render
every family). Add a family by adding a module and listing it in MODULES: that list is the
one registry (its order is the corpus's round-robin order). FAMILIES writes each module's
program with its long literal lists wrapped (_common.wrap_lists), as a person keeps lines short.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from . import (
    _common,
    bar_chart,
    box_plot,
    chemical_structure,
    circuit,
    contour_plot,
    cube_net,
    data_table,
    force_diagram,
    function_plot,
    heat_map,
    histogram,
    line_chart,
    number_line,
    pie_chart,
    plane_geometry,
    polar_plot,
    probability_tree,
    scatter_plot,
    solid_3d,
    surface_3d,
    vector_field,
    venn_diagram,
)

WriteProgram = Callable[[random.Random], str]

MODULES = (function_plot, plane_geometry, bar_chart, line_chart, scatter_plot, pie_chart, force_diagram, circuit,
           surface_3d, solid_3d, cube_net, number_line, data_table, histogram, box_plot, heat_map, contour_plot,
           vector_field, polar_plot, chemical_structure, probability_tree, venn_diagram)



def _wrapped(write: WriteProgram) -> WriteProgram:
    def program(rng: random.Random) -> str:
        return _common.wrap_lists(write(rng))

    return program


FAMILIES: dict[str, WriteProgram] = {module.NAME: _wrapped(module.program) for module in MODULES}


def describe() -> dict[str, str]:
    """Family name -> its module's docstring (one sentence: what the family draws), on one line."""
    modules = {m.NAME: m for m in MODULES}
    return {name: " ".join((modules[name].__doc__ or "").split()).split(". ")[0] for name in FAMILIES}


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
