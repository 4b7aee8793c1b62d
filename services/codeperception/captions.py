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


def _span(start: int, stop: int, word: str) -> str:
    return f"{word} {start + 1}" if stop - start <= 1 else f"{word}s {start + 1}–{stop}"


def _placement(ax: dict) -> str:
    position = tr.grid_position(0, ax)
    if len(position) == 6:
        _, _, rows, cols, row_span, col_span = position
        if rows == 1 and cols == 1:
            return "the only subplot"
        if len(row_span) == 2 and len(col_span) == 2:
            return (f"at {_span(row_span[0], row_span[1], 'row')}, {_span(col_span[0], col_span[1], 'column')} "
                    f"of a {rows}×{cols} grid")
    return "placed freely (no subplot grid)" if position[-1] == "free" else ""


# Whether (role, axes index, string) was drawn: the trace's axes fields hold what was *set*
# (a title can be set and hidden), its texts what was drawn.
Drawn = Callable[[str, "int | None", str], bool]


def _drawn_check(fig: dict, trimmed: bool) -> Drawn:
    """A trimmed trace lost texts, so there every recorded field counts as drawn."""
    if trimmed:
        return lambda role, axes, text: True
    drawn = {(t.get("role"), t.get("axes"), t["text"]) for t in tr.texts_of(fig)}
    return lambda role, axes, text: (role, axes, text) in drawn


def _axis_facts(ax: dict, name: str, kind: str, drawn: Drawn) -> str:
    parts = []
    label = tr.text_field(ax, f"{name}label")
    if label.strip() and drawn(f"{name}label", ax.get("index"), label):
        parts.append(f"labelled {quote(label)}")
    scale = tr.text_field(ax, f"{name}scale")
    if scale and scale != "linear":
        parts.append(f"{scale} scale")
    limits = tr.number_pair(ax, f"{name}lim")
    if limits is not None:
        parts.append(f"from {_number(limits[0])} to {_number(limits[1])}")
    ticks = [t for t in tr.string_list(ax, f"{name}ticklabels") if t.strip()]
    if len(ticks) > MAX_LISTED_TICKS:
        parts.append(f"{len(ticks)} tick labels from {quote(ticks[0])} to {quote(ticks[-1])}")
    elif ticks:
        parts.append(f"tick labels {_quoted_list(ticks, MAX_LISTED_TICKS)}")
    called = AXIS_NAMES.get(kind, {}).get(name, f"{name}-axis")
    return f"{called} " + ", ".join(parts) if parts else ""


def _elements(ax: dict) -> str:
    types = tr.int_counts(ax.get("artist_types"))
    if types:
        items = sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(_plural(n, ARTIST_NAMES.get(cls, (cls, cls))) for cls, n in items)
    counts = tr.int_counts(ax.get("counts"))
    return ", ".join(_plural(counts[kind], names) for kind, names in COUNT_NAMES.items() if counts[kind])


def _axes_sentence(number: int, ax: dict, free_texts: list[str], drawn: Drawn) -> str:
    if not ax:
        return f"Axes {number}: details not recorded."
    kind = tr.text_field(ax, "kind")
    role = tr.text_field(ax, "role")
    head = f"Axes {number}" + (" (a colorbar)" if role == "colorbar" else "")
    facts = [f"{kind} projection" if kind and kind != "rectilinear" else "", _placement(ax)]
    index = ax.get("index")
    title = tr.text_field(ax, "title")
    if title.strip() and drawn("title", index, title):
        facts.append(f"titled {quote(title)}")
    for side in ("left", "right"):
        side_title = tr.text_field(ax, f"title_{side}")
        if side_title.strip() and drawn("title", index, side_title):
            facts.append(f"{side} title {quote(side_title)}")
    if ax.get("axis_on") is False and kind != "3d":
        facts.append("axis lines and ticks hidden")
    names = ("x", "y", "z") if kind == "3d" else ("x", "y")
    facts += [_axis_facts(ax, name, kind, drawn) for name in names]
    elements = _elements(ax)
    facts.append(f"draws {elements}" if elements else "draws no data artists")
    legend = [s for s in tr.string_list(ax, "legend") if s.strip() and drawn("legend", index, s)]
    if legend:
        facts.append(f"legend entries {_quoted_list(legend, MAX_LISTED_TEXTS)}")
    if free_texts:
        facts.append(f"texts {_quoted_list(free_texts, MAX_LISTED_TEXTS)}")
    colormaps = tr.string_list(ax, "colormaps")
    if colormaps:
        facts.append("colormap " + ", ".join(colormaps))
    return f"{head}: " + "; ".join(f for f in facts if f) + "."


def _colors_sentence(fig: dict) -> str:
    usage = tr.color_usage({"figures": [fig]})
    if not usage:
        return ""
    listed = []
    for color, count in usage.most_common(MAX_LISTED_COLORS):
        name = color_name(color)
        listed.append(f"{name} ({color}, {count}×)" if name else f"{color} ({count}×)")
    more = len(usage) - len(listed)
    return "Main colours (approximate names): " + ", ".join(listed) + (f" and {more} more" if more > 0 else "") + "."


def _figure_sentences(number: int, fig: dict, trimmed: bool) -> list[str]:
    axes = tr.axes_of(fig)
    drawn = _drawn_check(fig, trimmed)
    head = f"Figure {number}"
    size = tr.number_pair(fig, "size_inches")
    px = tr.number_pair(fig, "size_px")
    if size is not None:
        head += f", {_number(size[0])}×{_number(size[1])} in"
    if px is not None:
        head += f" ({_number(px[0])}×{_number(px[1])} px)"
    head += f", with {_plural(len(axes), ('axes', 'axes'))}"
    suptitle = tr.text_field(fig, "suptitle")
    if suptitle.strip() and drawn("suptitle", None, suptitle):
        head += f", titled {quote(suptitle)}"
    facecolor = tr.text_field(fig, "facecolor").lower()
    if facecolor and facecolor != PLAIN_FACECOLOR:
        head += f", on a {color_name(facecolor) or 'coloured'} ({facecolor}) background"
    sentences = [head + "."]
    figure_texts = [t["text"] for t in tr.texts_of(fig) if t.get("role") == "figure_text" and t["text"].strip()]
    if figure_texts:
        sentences.append(f"Figure texts: {_quoted_list(figure_texts, MAX_LISTED_TEXTS)}.")
    legend = [s for s in tr.string_list(fig, "legend") if s.strip() and drawn("legend", None, s)]
    if legend:
        sentences.append(f"Figure legend entries: {_quoted_list(legend, MAX_LISTED_TEXTS)}.")
    free: dict[int, list[str]] = {}
    for text in tr.texts_of(fig):
        if text.get("role") in FREE_TEXT_ROLES and isinstance(text.get("axes"), int) and text["text"].strip():
            free.setdefault(text["axes"], []).append(text["text"])
    for i, ax in enumerate(axes):
        sentences.append(_axes_sentence(i + 1, ax, free.get(ax.get("index", i), []), drawn))
    colors = _colors_sentence(fig)
    if colors:
        sentences.append(colors)
    return sentences


def caption_from_trace(trace: dict) -> str:
    """Facts the code drew, from a sandbox execution trace (parsed trace_json), without any LLM."""
    figures = tr.figures(trace)
    if not figures:
        return "No figure was recorded." if not tr.is_truncated(trace) else "The trace was truncated to nothing."
    axes_count = sum(len(tr.axes_of(fig)) for fig in figures)
    sentences = [f"{_plural(len(figures), ('figure', 'figures'))}, {_plural(axes_count, ('axes', 'axes'))} in all."]
    for i, fig in enumerate(figures):
        sentences += _figure_sentences(i + 1, fig, tr.is_truncated(trace))
    if tr.is_truncated(trace):
        sentences.append("(The trace was trimmed to its size limit; some details are not stated.)")
    return " ".join(sentences)
