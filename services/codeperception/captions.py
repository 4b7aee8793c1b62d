"""Code-grounded captions: what a program drew, stated from its execution trace alone.

The sandbox's trace (docs/sandbox.md, "Execution trace") records what the runner drew:
figures, axes and their grid, titles, labels, ticks, legends, every drawn text, artist
kinds and counts, colours. A caption built from it states only those facts: no LLM, no
guess about what the picture *means*, and nothing for what is absent (a program without
a title gets no "titled"; a title that was set but not drawn is absent too, checked
against the drawn texts unless the trace was trimmed). Deterministic: the same trace
gives the same caption.

Quoted strings (“...”) are the trace's own strings, whitespace collapsed to single
spaces; colour names are the nearest CSS4 name (approximate, the hex follows). For the
code-perception service (the caption of the chosen candidate) and the data engine.
"""
from __future__ import annotations

from collections.abc import Callable

from services.codeperception.fidelity import trace as tr
from services.codeperception.fidelity.colors import color_name

MAX_LISTED_TICKS = 8  # more ticks are summarised as "N ticks from first to last"
MAX_LISTED_TEXTS = 10  # annotations and free texts listed per axes, then "and N more"
MAX_LISTED_COLORS = 6
PLAIN_FACECOLOR = "#ffffff"  # matplotlib's default figure background: not worth a mention
FREE_TEXT_ROLES = ("text", "annotation")

# Readable names for the artist classes matplotlib draws most; others keep their class name.
ARTIST_NAMES = {
    "Line2D": ("line", "lines"), "Line3D": ("3D line", "3D lines"),
    "Rectangle": ("rectangle", "rectangles"), "Wedge": ("wedge", "wedges"),
    "Circle": ("circle", "circles"), "Ellipse": ("ellipse", "ellipses"),
    "Polygon": ("polygon", "polygons"), "RegularPolygon": ("regular polygon", "regular polygons"),
    "FancyArrow": ("arrow", "arrows"), "FancyArrowPatch": ("arrow", "arrows"),
    "PathPatch": ("path patch", "path patches"),
    "PathCollection": ("scatter collection", "scatter collections"),
    "LineCollection": ("line collection", "line collections"),
    "PolyCollection": ("filled polygon collection", "filled polygon collections"),
    "FillBetweenPolyCollection": ("filled area", "filled areas"),
    "QuadMesh": ("mesh", "meshes"), "Quiver": ("quiver field", "quiver fields"),
    "Poly3DCollection": ("3D surface/polygon collection", "3D surface/polygon collections"),
    "Path3DCollection": ("3D scatter collection", "3D scatter collections"),
    "AxesImage": ("image", "images"), "Text": ("text", "texts"),
    "Annotation": ("annotation", "annotations"), "Table": ("table", "tables"),
}
# What the x and y of an axes are called where they are not plain x and y.
AXIS_NAMES = {"polar": {"x": "angular (θ) axis", "y": "radial (r) axis"}}
COUNT_NAMES = {"lines": ("line", "lines"), "patches": ("patch", "patches"),
               "collections": ("collection", "collections"), "texts": ("text", "texts"),
               "images": ("image", "images")}


def quote(text: str) -> str:
    return "“" + " ".join(text.split()) + "”"


def _plural(count: int, names: tuple[str, str]) -> str:
    return f"{count} {names[0] if count == 1 else names[1]}"


def _number(value: float) -> str:
    return f"{value:g}"


def _quoted_list(items: list[str], limit: int) -> str:
    shown = ", ".join(quote(s) for s in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _visible(strings) -> list[str]:
    return [s for s in strings if s.strip()]


# Whether (role, axes index, string) was drawn: the trace's axes fields hold what was *set*
# (a title can be set and hidden), its texts what was drawn.
Drawn = Callable[[str, "int | None", str], bool]


def _drawn_check(fig: tr.Figure, trimmed: bool) -> Drawn:
    """A trimmed trace lost texts, so there every recorded field counts as drawn."""
    if trimmed:
        return lambda role, axes, text: True
    drawn = {(t.role, t.axes, t.text) for t in fig.texts}
    return lambda role, axes, text: (role, axes, text) in drawn


def _span(span: tuple[int, int], word: str) -> str:
    start, stop = span
    return f"{word} {start + 1}" if stop - start <= 1 else f"{word}s {start + 1}–{stop}"


def _placement(ax: tr.Axes) -> str:
    if ax.grid is not None:
        if ax.grid.rows == 1 and ax.grid.cols == 1:
            return "the only subplot"
        return f"at {_span(ax.grid.row_span, 'row')}, {_span(ax.grid.col_span, 'column')} " \
               f"of a {ax.grid.rows}×{ax.grid.cols} grid"
    return "placed freely (no subplot grid)" if ax.free else ""


def _axis_facts(ax: tr.Axes, name: str, axis: tr.Axis, drawn: Drawn) -> str:
    parts = []
    if axis.label.strip() and drawn(f"{name}label", ax.index, axis.label):
        parts.append(f"labelled {quote(axis.label)}")
    if axis.scale and axis.scale != "linear":
        parts.append(f"{axis.scale} scale")
    if axis.limits is not None:
        parts.append(f"from {_number(axis.limits[0])} to {_number(axis.limits[1])}")
    # A hidden 2D axis draws no ticks, though the trace may hold the ones matplotlib computed.
    ticks = _visible(axis.ticklabels) if ax.axis_on or ax.kind == "3d" else []
    if len(ticks) > MAX_LISTED_TICKS:
        parts.append(f"{len(ticks)} tick labels from {quote(ticks[0])} to {quote(ticks[-1])}")
    elif ticks:
        parts.append(f"tick labels {_quoted_list(ticks, MAX_LISTED_TICKS)}")
    called = AXIS_NAMES.get(ax.kind, {}).get(name, f"{name}-axis")
    return f"{called} " + ", ".join(parts) if parts else ""


def _elements(ax: tr.Axes) -> str:
    if ax.artist_types:
        items = sorted(ax.artist_types.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(_plural(n, ARTIST_NAMES.get(cls, (cls, cls))) for cls, n in items)
    return ", ".join(_plural(ax.counts[kind], names) for kind, names in COUNT_NAMES.items() if ax.counts[kind])


def _axes_sentence(number: int, ax: tr.Axes, free_texts: list[str], drawn: Drawn) -> str:
    if not ax.detailed:
        return f"Axes {number}: details not recorded."
    head = f"Axes {number}" + (" (a colorbar)" if ax.role == "colorbar" else "")
    facts = [f"{ax.kind} projection" if ax.kind and ax.kind != "rectilinear" else "", _placement(ax)]
    if ax.title.strip() and drawn("title", ax.index, ax.title):
        facts.append(f"titled {quote(ax.title)}")
    for side, side_title in ax.side_titles:
        if side_title.strip() and drawn("title", ax.index, side_title):
            facts.append(f"{side} title {quote(side_title)}")
    if not ax.axis_on and ax.kind != "3d":  # mplot3d turns the 2D axis off and draws its own
        facts.append("axis lines and ticks hidden")
    facts += [_axis_facts(ax, name, axis, drawn) for name, axis in ax.axis]
    elements = _elements(ax)
    facts.append(f"draws {elements}" if elements else "draws no data artists")
    legend = [s for s in _visible(ax.legend) if drawn("legend", ax.index, s)]
    if legend:
        facts.append(f"legend entries {_quoted_list(legend, MAX_LISTED_TEXTS)}")
    if free_texts:
        facts.append(f"texts {_quoted_list(free_texts, MAX_LISTED_TEXTS)}")
    if ax.colormaps:
        facts.append("colormap " + ", ".join(ax.colormaps))
    return f"{head}: " + "; ".join(f for f in facts if f) + "."


def _colors_sentence(fig: tr.Figure) -> str:
    if not fig.colors:
        return ""
    listed = []
    for color, count in fig.colors.most_common(MAX_LISTED_COLORS):
        name = color_name(color)
        listed.append(f"{name} ({color}, {count}×)" if name else f"{color} ({count}×)")
    more = len(fig.colors) - len(listed)
    return "Main colours (approximate names): " + ", ".join(listed) + (f" and {more} more" if more > 0 else "") + "."


def _figure_sentences(number: int, fig: tr.Figure, trimmed: bool) -> list[str]:
    drawn = _drawn_check(fig, trimmed)
    head = f"Figure {number}"
    if fig.size_inches is not None:
        head += f", {_number(fig.size_inches[0])}×{_number(fig.size_inches[1])} in"
    if fig.size_px is not None:
        head += f" ({_number(fig.size_px[0])}×{_number(fig.size_px[1])} px)"
    head += f", with {_plural(len(fig.axes), ('axes', 'axes'))}"
    if fig.suptitle.strip() and drawn("suptitle", None, fig.suptitle):
        head += f", titled {quote(fig.suptitle)}"
    if fig.facecolor and fig.facecolor != PLAIN_FACECOLOR:
        head += f", on a {color_name(fig.facecolor) or 'coloured'} ({fig.facecolor}) background"
    sentences = [head + "."]
    figure_texts = _visible(t.text for t in fig.texts if t.role == "figure_text")
    if figure_texts:
        sentences.append(f"Figure texts: {_quoted_list(figure_texts, MAX_LISTED_TEXTS)}.")
    legend = [s for s in _visible(fig.legend) if drawn("legend", None, s)]
    if legend:
        sentences.append(f"Figure legend entries: {_quoted_list(legend, MAX_LISTED_TEXTS)}.")
    free: dict[int | None, list[str]] = {}
    for text in fig.texts:
        if text.role in FREE_TEXT_ROLES and text.axes is not None and text.text.strip():
            free.setdefault(text.axes, []).append(text.text)
    for i, ax in enumerate(fig.axes):
        sentences.append(_axes_sentence(i + 1, ax, free.get(i if ax.index is None else ax.index, []), drawn))
    colors = _colors_sentence(fig)
    if colors:
        sentences.append(colors)
    return sentences


def caption_from_trace(trace: dict) -> str:
    """Facts the code drew, from a sandbox execution trace (parsed trace_json), without any LLM."""
    view = tr.read(trace)
    if not view.figures:
        return "The trace was truncated to nothing." if view.truncated else "No figure was recorded."
    axes_count = sum(len(fig.axes) for fig in view.figures)
    sentences = [f"{_plural(len(view.figures), ('figure', 'figures'))}, "
                 f"{_plural(axes_count, ('axes', 'axes'))} in all."]
    for i, fig in enumerate(view.figures):
        sentences += _figure_sentences(i + 1, fig, view.truncated)
    if view.truncated:
        sentences.append("(The trace was trimmed to its size limit; some details are not stated.)")
    return " ".join(sentences)
