"""Trace metrics and colours on hand-written traces (the schema of docs/sandbox.md)."""
from __future__ import annotations

from collections import Counter

import pytest

from services.codeperception.fidelity import trace as tr
from services.codeperception.fidelity.colors import color_f1, color_name, hex_to_rgb
from services.codeperception.fidelity.trace_metrics import layout_f1, multiset_f1, text_f1, trace_metrics, type_f1


def axes(rows=1, cols=1, row=0, col=0, *, role="axes", types=None, counts=None, free=False):
    grid = None if free else {"rows": rows, "cols": cols, "row_span": [row, row + 1], "col_span": [col, col + 1]}
    return {"role": role, "grid": grid, "artist_types": dict(types or {}), "counts": dict(counts or {})}


def texts(*strings, role="text"):
    return [{"text": s, "role": role, "axes": 0} for s in strings]


def trace(*figures, truncated=False):
    return {"version": 1, "truncated": truncated, "figures": list(figures)}


def figure(axes_list=(), text_list=(), colors=()):
    return {"axes": list(axes_list), "texts": list(text_list),
            "colors": [{"color": c, "count": n} for c, n in colors]}


def metric(function, reference: dict, candidate: dict) -> float:
    return function(tr.read(reference), tr.read(candidate))


def test_multiset_f1_is_the_sum_of_minima():
    assert multiset_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)
    assert multiset_f1(Counter(Line2D=3), Counter(Line2D=2)) == pytest.approx(0.8)
    assert multiset_f1([], []) == 1.0
    assert multiset_f1(["a"], []) == 0.0 and multiset_f1([], ["a"]) == 0.0
    assert multiset_f1(["a"], ["b"]) == 0.0


def test_text_f1_counts_exact_strings_with_multiplicity():
    reference = trace(figure(text_list=texts("Title", "x", "1", "1")))
    assert metric(text_f1, reference, reference) == 1.0
    assert metric(text_f1, reference, trace(figure(text_list=texts("title", "x", "1", "1")))) == pytest.approx(0.75)
    assert metric(text_f1, reference, trace(figure(text_list=texts("Title", "x", "1")))) == pytest.approx(6 / 7)


def test_text_f1_leaves_ticks_out_when_either_trace_was_trimmed():
    full = trace(figure(text_list=texts("T") + texts("0", "1", "2", role="xtick")))
    trimmed = trace(figure(text_list=texts("T")), truncated=True)  # the sandbox drops tick texts first
    assert metric(text_f1, full, trimmed) == 1.0
    assert metric(text_f1, full, trace(figure(text_list=texts("T")))) == pytest.approx(0.4)  # untrimmed: ticks missing


def test_layout_f1_compares_grid_positions():
    grid = trace(figure([axes(2, 2, r, c) for r in range(2) for c in range(2)]))
    row = trace(figure([axes(1, 4, 0, c) for c in range(4)]))
    assert metric(layout_f1, grid, grid) == 1.0
    assert metric(layout_f1, grid, row) == 0.0
    three = trace(figure([axes(2, 2, 0, 0), axes(2, 2, 0, 1), axes(2, 2, 1, 0)]))
    assert metric(layout_f1, grid, three) == pytest.approx(6 / 7)


def test_layout_f1_knows_colorbars_free_axes_and_figures():
    one = trace(figure([axes(), axes(free=True, role="colorbar")]))
    assert metric(layout_f1, one, one) == 1.0
    assert metric(layout_f1, one, trace(figure([axes()]))) == pytest.approx(2 / 3)
    two_figures = trace(figure([axes()]), figure([axes()]))
    assert metric(layout_f1, two_figures, trace(figure([axes()]))) == pytest.approx(2 / 3)


def test_type_f1_sums_artist_classes_over_axes():
    reference = trace(figure([axes(types={"Line2D": 3}), axes(types={"Rectangle": 8, "Annotation": 8})]))
    assert metric(type_f1, reference, reference) == 1.0
    missing = trace(figure([axes(types={"Line2D": 2}), axes(types={"Rectangle": 8, "Annotation": 8})]))
    assert metric(type_f1, reference, missing) == pytest.approx(2 * 18 / (19 + 18))
    as_bars = trace(figure([axes(types={"Rectangle": 3}), axes(types={"Rectangle": 8, "Annotation": 8})]))
    assert metric(type_f1, reference, as_bars) == pytest.approx(16 / 19)


def test_type_f1_falls_back_to_counts_when_classes_were_trimmed():
    full = trace(figure([axes(types={"Line2D": 2, "PathCollection": 1}, counts={"lines": 2, "collections": 1})]))
    trimmed = trace(figure([axes(types={}, counts={"lines": 2, "collections": 1, "artists_3d": 0})]), truncated=True)
    assert not tr.read(trimmed).has_artist_types
    assert metric(type_f1, full, trimmed) == 1.0


def test_color_f1_with_optimal_assignment_and_usage_weights():
    palette = Counter({"#1f77b4": 4, "#ff7f0e": 4})
    assert color_f1(palette, palette) == pytest.approx(1.0)
    swapped_order = Counter({"#ff7f0e": 4, "#1f77b4": 4})
    assert color_f1(palette, swapped_order) == pytest.approx(1.0)
    # one series recoloured: only its weight loses similarity
    one_recoloured = color_f1(palette, Counter({"#1f77b4": 4, "#2ca02c": 4}))
    both_recoloured = color_f1(palette, Counter({"#9467bd": 4, "#2ca02c": 4}))
    assert 1.0 > one_recoloured > both_recoloured > 0.0
    # a slightly different blue is nearly as good as the same blue
    assert color_f1(palette, Counter({"#2077b5": 4, "#ff7f0e": 4})) > 0.99
    # a missing colour costs recall only
    assert color_f1(palette, Counter({"#1f77b4": 4})) == pytest.approx(2 / 3)
    assert color_f1(Counter(), Counter()) == 1.0 and color_f1(palette, Counter()) == 0.0


def test_color_f1_weights_by_usage():
    reference = Counter({"#000000": 100, "#ff0000": 1})
    assert color_f1(reference, Counter({"#000000": 100, "#0000ff": 1})) > 0.99
    assert color_f1(reference, Counter({"#ffffff": 100, "#ff0000": 1})) < 0.1


def test_hex_colours_parse_and_translucent_ones_look_lighter():
    assert hex_to_rgb("#ffffff") == (1.0, 1.0, 1.0)
    assert hex_to_rgb("#000") == (0.0, 0.0, 0.0)
    assert hex_to_rgb("#00000080") == pytest.approx((127 / 255,) * 3, abs=0.01)
    assert hex_to_rgb("#12345") is None and hex_to_rgb("#gggggg") is None


def test_colour_names_are_the_nearest_css4_names():
    assert color_name("#ff0000") == "red"
    assert color_name("#1f77b4") == "steelblue"
    assert color_name("#000001") == "black"
    assert color_name("nonsense") is None


def test_broken_and_trimmed_traces_read_as_empty_not_as_errors():
    for broken in ({}, {"figures": None}, {"figures": [None, 3, {"axes": "x", "texts": [None, {"text": 5}],
                                                                   "colors": [{"color": 1}]}]}):
        metrics = trace_metrics(broken, broken)
        assert metrics == {"text_f1": 1.0, "layout_f1": 1.0, "type_f1": 1.0, "color_f1": 1.0}
    last_stage = {"truncated": True, "figures": [{"index": 0, "size_px": [640, 480], "axes": 3}]}
    assert [ax.detailed for ax in tr.read(last_stage).figures[0].axes] == [False] * 3
    full = trace(figure([axes(), axes(), axes()]))
    assert metric(layout_f1, full, last_stage) == 1.0  # three axes each: all that is known
    assert metric(layout_f1, trace(figure([axes()])), last_stage) == pytest.approx(0.5)
    assert all(0.0 <= v <= 1.0 for v in trace_metrics(full, last_stage).values())


def test_read_gives_typed_views_of_the_documented_schema():
    raw = {"version": 1, "dpi": 100, "truncated": False, "figures": [{
        "index": 0, "size_inches": [6.4, 4.8], "size_px": [640, 480], "facecolor": "#FFFFFF",
        "suptitle": None, "legend": [],
        "axes": [{"index": 0, "kind": "3d", "role": "axes",
                  "grid": {"rows": 1, "cols": 2, "row_span": [0, 1], "col_span": [1, 2]},
                  "title": "T", "xlabel": "x", "ylabel": "y", "zlabel": "z", "xlim": [0, 1], "zlim": [None, 1],
                  "xscale": "log", "xticklabels": ["1", 2, "10"], "legend": ["a"],
                  "counts": {"lines": 2, "artists_3d": 1}, "artist_types": {"Line3D": 2, "Bad": "x"},
                  "colormaps": ["viridis"]}],
        "texts": [{"text": "T", "role": "title", "axes": 0}, {"text": "", "role": "text"}],
        "colors": [{"color": "#1F77B4", "count": 3}]}]}
    fig = tr.read(raw).figures[0]
    assert (fig.size_px, fig.facecolor, fig.suptitle) == ((640.0, 480.0), "#ffffff", "")
    ax = fig.axes[0]
    assert ax.grid == tr.Grid(1, 2, (0, 1), (1, 2)) and ax.kind == "3d" and ax.detailed
    axis = dict(ax.axis)
    assert list(axis) == ["x", "y", "z"]
    assert axis["x"] == tr.Axis(label="x", scale="log", limits=(0.0, 1.0), ticklabels=("1", "10"))
    assert axis["z"].limits is None  # a non-finite limit is null in the trace
    assert ax.artist_types == Counter(Line3D=2) and ax.counts == Counter(lines=2, artists_3d=1)
    assert fig.texts == (tr.DrawnText("T", "title", 0),)
    assert fig.colors == Counter({"#1f77b4": 3})
