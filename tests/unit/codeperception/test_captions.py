"""Code-grounded captions from real execution traces: the facts the program drew, nothing else."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.codeperception.captions import ARTIST_NAMES, caption_from_trace
from services.codeperception.fidelity import trace as tr
from tests.codeperception_pairs.rendering import program, render, start_pool

CORPUS = Path(__file__).resolve().parents[2] / "sandbox" / "corpus"
PROGRAMS = {
    "function_plot": program("function_plot"),
    "grouped_bars": program("grouped_bars"),
    "subplots_grid": program("subplots_grid"),
    "geometry": program("geometry"),
    "untitled_geometry": (CORPUS / "s02_triangle_geometry.py").read_text(),
    "surface3d": (CORPUS / "s06_surface3d.py").read_text(),
    "polar": (CORPUS / "s09_polar_rose.py").read_text(),
    "two_figures": (CORPUS / "s15_two_figures.py").read_text(),
    "heatmap": (CORPUS / "s13_heatmap.py").read_text(),
}
QUOTED = re.compile(r"“([^”]*)”")


@pytest.fixture(scope="module")
def traces():
    with start_pool() as pool:
        yield {name: render(pool, code).trace for name, code in PROGRAMS.items()}


def caption(traces, name: str) -> str:
    return caption_from_trace(traces[name])


def trace_strings(trace: dict) -> set[str]:
    """Every string the trace holds, whitespace collapsed as the caption quotes them."""
    found: set[str] = set()
    for fig in tr.read(trace).figures:
        found.update([fig.suptitle, *fig.legend, *(t.text for t in fig.texts)])
        for ax in fig.axes:
            found.update([ax.title, *ax.legend, *(text for _, text in ax.side_titles)])
            for _, axis in ax.axis:
                found.update([axis.label, *axis.ticklabels])
    return {" ".join(s.split()) for s in found if s.strip()}


def test_function_plot(traces):
    text = caption(traces, "function_plot")
    for quoted in ("Trigonometric functions", "x (rad)", "y", "sin x", "cos x", "0.5 sin 2x"):
        assert f"“{quoted}”" in text
    assert text.startswith("1 figure, 1 axes in all.")
    assert "draws 4 lines" in text  # three curves and the y = 0 line
    assert "legend entries “sin x”, “cos x”, “0.5 sin 2x”" in text


def test_grouped_bars(traces):
    text = caption(traces, "grouped_bars")
    for quoted in ("Enrolment by subject", "students", "Physics", "Maths", "2022", "2023", "23", "34"):
        assert f"“{quoted}”" in text
    assert "8 rectangles" in text and "8 annotations" in text
    assert "steelblue (#1f77b4, 4×)" in text and "darkorange (#ff7f0e, 4×)" in text
    assert "y-axis labelled “students”, from 0 to 40" in text


def test_subplot_grid(traces):
    text = caption(traces, "subplots_grid")
    assert "with 4 axes, titled “Four panels”" in text
    for quoted in ("damped oscillation", "scatter", "bars", "pie", "40%"):
        assert f"“{quoted}”" in text
    assert "Axes 4: at row 2, column 2 of a 2×2 grid; titled “pie”" in text
    assert "3 wedges" in text and "1 scatter collection" in text


def test_no_title_no_titled(traces):
    text = caption(traces, "untitled_geometry")
    assert "titled" not in text
    assert "axis lines and ticks hidden" in text
    assert "texts “A”, “B”, “C”, “$\\alpha$”" in text


def test_3d_and_polar_axes(traces):
    surface = caption(traces, "surface3d")
    assert "3d projection" in surface and "z-axis labelled “z”" in surface
    assert "colormap coolwarm" in surface
    polar = caption(traces, "polar")
    assert "polar projection" in polar and "titled “Rose curves”" in polar
    assert "3 lines" in polar and "angular (θ) axis" in polar and "radial (r) axis" in polar


def test_two_figures_each_with_its_own_facts(traces):
    text = caption(traces, "two_figures")
    assert text.startswith("2 figures, 2 axes in all.")
    first, second = text.split("Figure 2")
    assert "“f(x) = x³ − x”" in first and "“f'(x) = 3x² − 1”" in second


def test_a_colorbar_and_an_image(traces):
    text = caption(traces, "heatmap")
    assert "(a colorbar)" in text and "1 image" in text and "colormap RdBu_r" in text
    assert "25 texts" in text  # the annotated cells


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_quoted_string_is_in_the_trace(traces, name):
    text = caption(traces, name)
    quoted = QUOTED.findall(text)
    assert quoted, text
    strings = trace_strings(traces[name])
    assert [q for q in quoted if q not in strings] == []


@pytest.mark.parametrize("name", PROGRAMS)
def test_counts_are_the_traces_counts(traces, name):
    text = caption(traces, name)
    view = tr.read(traces[name])
    assert text.startswith(f"{len(view.figures)} figure")
    for fig in view.figures:
        for ax in fig.axes:
            for cls, count in ax.artist_types.items():
                singular, plural = ARTIST_NAMES.get(cls, (cls, cls))
                assert f"{count} {singular if count == 1 else plural}" in text, (cls, count)
    titles = [ax.title for fig in view.figures for ax in fig.axes] + [fig.suptitle for fig in view.figures]
    if not any(t.strip() for t in titles):
        assert "titled" not in text


def test_captions_are_deterministic(traces):
    assert caption(traces, "subplots_grid") == caption_from_trace(traces["subplots_grid"])


def test_trimmed_and_empty_traces():
    assert caption_from_trace({}) == "No figure was recorded."
    assert caption_from_trace({"truncated": True, "figures": []}) == "The trace was truncated to nothing."
    trimmed = {"truncated": True, "figures": [{"index": 0, "size_px": [640, 480], "axes": 2}]}
    text = caption_from_trace(trimmed)
    assert "with 2 axes" in text and "Axes 1: details not recorded." in text and "trimmed" in text
    assert "“" not in text  # no strings recorded, none quoted


def test_invisible_texts_and_empty_labels_are_not_mentioned():
    trace = {"figures": [{"axes": [{"kind": "rectilinear", "role": "axes", "title": "", "xlabel": " ",
                                    "ylabel": "", "xticklabels": ["", ""], "legend": [],
                                    "artist_types": {}, "counts": {}}],
                          "texts": [], "colors": []}]}
    text = caption_from_trace(trace)
    assert "titled" not in text and "labelled" not in text and "tick labels" not in text
    assert "draws no data artists" in text and "background" not in text


def test_set_but_undrawn_strings_are_not_stated():
    """The axes fields hold what the code set; a hidden title or legend was not drawn."""
    ax = {"index": 0, "kind": "rectilinear", "role": "axes", "title": "hidden", "xlabel": "shown",
          "legend": ["a", "b"]}
    drawn = [{"text": "shown", "role": "xlabel", "axes": 0}, {"text": "a", "role": "legend", "axes": 0}]
    text = caption_from_trace({"figures": [{"suptitle": "gone", "axes": [ax], "texts": drawn}]})
    assert "hidden" not in text and "gone" not in text and "“b”" not in text
    assert "labelled “shown”" in text and "legend entries “a”" in text
    # a trimmed trace lost texts: there the set fields are all that is known
    trimmed = caption_from_trace({"truncated": True, "figures": [{"axes": [ax], "texts": []}]})
    assert "titled “hidden”" in trimmed


def test_a_coloured_figure_background_is_stated():
    trace = {"figures": [{"facecolor": "#000000", "axes": [], "texts": [], "colors": []}]}
    assert "on a black (#000000) background" in caption_from_trace(trace)
