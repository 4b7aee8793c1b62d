"""The sandbox's execution trace (docs/sandbox.md, "Execution trace"), read in one place.

Everything the fidelity metrics and the captions take from a trace goes through these
accessors, so the keys are named once. They are tolerant: a missing key, a wrong type or
a trace the sandbox trimmed to fit its size limit (`truncated`: tick texts, then texts,
artist types, and at the last stage the axes themselves are dropped, leaving a count)
reads as "nothing there", never as an error.
"""
from __future__ import annotations

from collections import Counter

TICK_ROLES = ("xtick", "ytick", "ztick")
GRID_AXES = ("rows", "cols", "row_span", "col_span")


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def is_truncated(trace: dict) -> bool:
    return bool(_dict(trace).get("truncated"))


def figures(trace: dict) -> list[dict]:
    return [fig for fig in _list(_dict(trace).get("figures")) if isinstance(fig, dict)]


def axes_of(figure: dict) -> list[dict]:
    """The figure's axes; a trace trimmed to a count gives that many empty dicts."""
    axes = figure.get("axes")
    if isinstance(axes, int) and not isinstance(axes, bool):
        return [{} for _ in range(max(0, axes))]
    return [ax if isinstance(ax, dict) else {} for ax in _list(axes)]


def texts_of(figure: dict) -> list[dict]:
    """The figure's drawn texts with a non-empty string."""
    return [t for t in _list(figure.get("texts"))
            if isinstance(t, dict) and isinstance(t.get("text"), str) and t["text"]]


def text_field(record: dict, key: str) -> str:
    """A string field (title, xlabel, suptitle, ...); "" when absent or not a string."""
    value = record.get(key)
    return value if isinstance(value, str) else ""


def string_list(record: dict, key: str) -> list[str]:
    """A list-of-strings field (legend, ticklabels), non-strings dropped."""
    return [s for s in _list(record.get(key)) if isinstance(s, str)]


def number_pair(record: dict, key: str) -> tuple[float, float] | None:
    value = _list(record.get(key))
    if len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return float(value[0]), float(value[1])
    return None


def int_counts(mapping) -> Counter:
    """A {name: count} field as a Counter of its positive integer counts."""
    return Counter({str(k): int(v) for k, v in _dict(mapping).items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0})


def drawn_texts(trace: dict, *, include_ticks: bool = True) -> list[str]:
    """Every drawn string (a multiset, in drawing order), optionally without tick labels."""
    return [t["text"] for fig in figures(trace) for t in texts_of(fig)
            if include_ticks or t.get("role") not in TICK_ROLES]


def grid_position(figure_index: int, ax: dict) -> tuple:
    """Where one axes sits: (figure, role, rows, cols, row span, col span); free-placed axes
    (no subplot grid) and axes whose detail was trimmed keep only what is known."""
    role = text_field(ax, "role") or "axes"
    grid = _dict(ax.get("grid"))
    if all(key in grid for key in GRID_AXES):
        return (figure_index, role, grid["rows"], grid["cols"],
                tuple(_list(grid["row_span"])), tuple(_list(grid["col_span"])))
    return (figure_index, role, "free" if "grid" in ax else "unknown")


def has_axes_detail(trace: dict) -> bool:
    """False when the sandbox trimmed some figure's axes to a mere count (its last stage)."""
    return not any(isinstance(fig.get("axes"), int) for fig in figures(trace))


def grid_positions(trace: dict, *, detailed: bool = True) -> list[tuple]:
    """Each axes' grid_position, or only (figure,) per axes when not `detailed`."""
    return [grid_position(i, ax) if detailed else (i,) for i, fig in enumerate(figures(trace)) for ax in axes_of(fig)]


def has_artist_types(trace: dict) -> bool:
    """False when some axes lost its artist types to trimming (counts remain)."""
    return all(isinstance(ax.get("artist_types"), dict) and (ax["artist_types"] or not int_counts(ax.get("counts")))
               for fig in figures(trace) for ax in axes_of(fig))


def artist_type_counts(trace: dict, *, by_class: bool = True) -> Counter:
    """Drawn data artists over all axes: by class name (`artist_types`), or by the coarse
    kinds of `counts` (lines, patches, collections, texts, images, artists_3d)."""
    total: Counter = Counter()
    for fig in figures(trace):
        for ax in axes_of(fig):
            if by_class:
                total.update(int_counts(ax.get("artist_types")))
            else:
                counts = int_counts(ax.get("counts"))
                counts.pop("artists_3d", None)  # a subset of the others, not a kind of its own
                total.update(counts)
    return total


def color_usage(trace: dict) -> Counter:
    """Hex colour -> number of artists/elements using it, summed over figures."""
    usage: Counter = Counter()
    for fig in figures(trace):
        for entry in _list(fig.get("colors")):
            if isinstance(entry, dict) and isinstance(entry.get("color"), str):
                count = entry.get("count", 1)
                usage[entry["color"].lower()] += int(count) if isinstance(count, (int, float)) and count > 0 else 1
    return usage
