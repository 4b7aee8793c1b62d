"""The sandbox's execution trace (docs/sandbox.md, "Execution trace"), read in one place.

`read(trace_dict)` turns the parsed `trace_json` into typed, immutable views; the fidelity
metrics and the captions use only those, so every key of the schema is named here once.
Reading is tolerant: a missing key, a value of the wrong type, or detail the sandbox
trimmed to fit its size limit (`truncated`: tick texts first, then texts, then artist
classes, at the last stage the axes themselves, leaving only their number) reads as
"nothing there", never as an error.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

TICK_ROLES = frozenset({"xtick", "ytick", "ztick"})
AXIS_NAMES_2D = ("x", "y")
AXIS_NAMES_3D = ("x", "y", "z")


@dataclass(frozen=True)
class DrawnText:
    text: str
    role: str  # suptitle, figure_text, title, x/y/zlabel, x/y/ztick, legend, legend_title, text, annotation, other
    axes: int | None  # index of the axes it belongs to; None for figure-level texts


@dataclass(frozen=True)
class Grid:
    """A subplot's place in its grid spec; spans are [start, stop) row and column indices."""
    rows: int
    cols: int
    row_span: tuple[int, int]
    col_span: tuple[int, int]


@dataclass(frozen=True)
class Axis:
    """One of an axes' x, y (and z) axes."""
    label: str = ""
    scale: str = ""
    limits: tuple[float, float] | None = None
    ticklabels: tuple[str, ...] = ()  # the drawn major tick labels


@dataclass(frozen=True)
class Axes:
    index: int | None = None
    detailed: bool = True  # False: the trace kept only the number of axes
    kind: str = ""  # rectilinear, polar, 3d
    role: str = "axes"  # axes or colorbar
    grid: Grid | None = None
    free: bool = False  # placed outside any subplot grid
    title: str = ""
    side_titles: tuple[tuple[str, str], ...] = ()  # (("left", text), ("right", text)) where set
    axis_on: bool = True
    axis: tuple[tuple[str, Axis], ...] = ()  # (("x", Axis), ("y", Axis)[, ("z", Axis)])
    legend: tuple[str, ...] = ()
    counts: Counter = field(default_factory=Counter)  # lines, patches, collections, texts, images, artists_3d
    artist_types: Counter = field(default_factory=Counter)  # class name -> count
    colormaps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    index: int
    size_inches: tuple[float, float] | None = None
    size_px: tuple[float, float] | None = None
    facecolor: str = ""
    suptitle: str = ""
    legend: tuple[str, ...] = ()  # figure-level legend entries
    axes: tuple[Axes, ...] = ()
    texts: tuple[DrawnText, ...] = ()  # every drawn text, in drawing order
    colors: Counter = field(default_factory=Counter)  # hex colour -> artists/elements using it


@dataclass(frozen=True)
class Trace:
    figures: tuple[Figure, ...] = ()
    truncated: bool = False

    @property
    def has_axes_detail(self) -> bool:
        """False when some figure's axes were trimmed to a mere count."""
        return all(ax.detailed for fig in self.figures for ax in fig.axes)

    @property
    def has_artist_types(self) -> bool:
        """False when some axes lost its artist classes to trimming (its counts remain)."""
        return all(ax.detailed and (ax.artist_types or not ax.counts) for fig in self.figures for ax in fig.axes)


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strings(value) -> tuple[str, ...]:
    return tuple(s for s in _list(value) if isinstance(s, str))


def _pair(value) -> tuple[float, float] | None:
    items = _list(value)
    if len(items) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return float(items[0]), float(items[1])
    return None


def _counts(value) -> Counter:
    return Counter({str(k): int(v) for k, v in _dict(value).items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0})


def _grid(value) -> Grid | None:
    grid = _dict(value)
    rows, cols = _int(grid.get("rows")), _int(grid.get("cols"))
    row_span, col_span = _pair(grid.get("row_span")), _pair(grid.get("col_span"))
    if rows is None or cols is None or row_span is None or col_span is None:
        return None
    return Grid(rows, cols, (int(row_span[0]), int(row_span[1])), (int(col_span[0]), int(col_span[1])))


def _axes(raw: dict) -> Axes:
    kind = _str(raw.get("kind"))
    names = AXIS_NAMES_3D if kind == "3d" or "zlabel" in raw else AXIS_NAMES_2D
    return Axes(
        index=_int(raw.get("index")),
        kind=kind,
        role=_str(raw.get("role")) or "axes",
        grid=_grid(raw.get("grid")),
        free="grid" in raw and raw["grid"] is None,
        title=_str(raw.get("title")),
        side_titles=tuple((side, _str(raw.get(f"title_{side}"))) for side in ("left", "right")
                          if _str(raw.get(f"title_{side}"))),
        axis_on=raw.get("axis_on") is not False,
        axis=tuple((name, Axis(label=_str(raw.get(f"{name}label")), scale=_str(raw.get(f"{name}scale")),
                               limits=_pair(raw.get(f"{name}lim")), ticklabels=_strings(raw.get(f"{name}ticklabels"))))
                   for name in names),
        legend=_strings(raw.get("legend")),
        counts=_counts(raw.get("counts")),
        artist_types=_counts(raw.get("artist_types")),
        colormaps=_strings(raw.get("colormaps")),
    )


def _texts(value) -> tuple[DrawnText, ...]:
    return tuple(DrawnText(t["text"], _str(t.get("role")) or "other", _int(t.get("axes")))
                 for t in _list(value) if isinstance(t, dict) and isinstance(t.get("text"), str) and t["text"])


def _colors(value) -> Counter:
    usage: Counter = Counter()
    for entry in _list(value):
        if isinstance(entry, dict) and isinstance(entry.get("color"), str):
            count = entry.get("count", 1)
            valid = isinstance(count, (int, float)) and not isinstance(count, bool) and count > 0
            usage[entry["color"].lower()] += int(count) if valid else 1
    return usage


def _figure(position: int, raw: dict) -> Figure:
    raw_axes = raw.get("axes")
    count = _int(raw_axes)
    if count is not None:  # the last trimming stage: only how many axes there were
        axes = tuple(Axes(detailed=False) for _ in range(max(0, count)))
    else:
        axes = tuple(_axes(ax) for ax in _list(raw_axes) if isinstance(ax, dict))
    index = _int(raw.get("index"))
    return Figure(
        index=position if index is None else index,
        size_inches=_pair(raw.get("size_inches")),
        size_px=_pair(raw.get("size_px")),
        facecolor=_str(raw.get("facecolor")).lower(),
        suptitle=_str(raw.get("suptitle")),
        legend=_strings(raw.get("legend")),
        axes=axes,
        texts=_texts(raw.get("texts")),
        colors=_colors(raw.get("colors")),
    )


def read(trace: dict) -> Trace:
    """Typed views of a parsed execution trace; anything unreadable is left out."""
    trace = _dict(trace)
    figures = [fig for fig in _list(trace.get("figures")) if isinstance(fig, dict)]
    return Trace(figures=tuple(_figure(i, fig) for i, fig in enumerate(figures)),
                 truncated=bool(trace.get("truncated")))


# The multisets the trace metrics compare.

def drawn_texts(trace: Trace, *, include_ticks: bool = True) -> list[str]:
    """Every drawn string (with multiplicity), optionally without tick labels."""
    return [t.text for fig in trace.figures for t in fig.texts if include_ticks or t.role not in TICK_ROLES]


def grid_position(figure: int, ax: Axes) -> tuple:
    """Where one axes sits: (figure, role, rows, cols, row span, col span); free-placed axes
    and axes without recorded placement keep only what is known."""
    if not ax.detailed:
        return (figure,)
    if ax.grid is not None:
        return (figure, ax.role, ax.grid.rows, ax.grid.cols, ax.grid.row_span, ax.grid.col_span)
    return (figure, ax.role, "free" if ax.free else "unknown")


def grid_positions(trace: Trace, *, detailed: bool = True) -> list[tuple]:
    """Each axes' grid_position, or only (figure,) per axes when not `detailed`."""
    return [grid_position(i, ax) if detailed else (i,) for i, fig in enumerate(trace.figures) for ax in fig.axes]


def artist_type_counts(trace: Trace, *, by_class: bool = True) -> Counter:
    """Drawn data artists over all axes: by class name, or by the coarse kinds of `counts`."""
    total: Counter = Counter()
    for fig in trace.figures:
        for ax in fig.axes:
            if by_class:
                total.update(ax.artist_types)
            else:
                total.update({kind: n for kind, n in ax.counts.items() if kind != "artists_3d"})  # a subset
    return total


def color_usage(trace: Trace) -> Counter:
    """Hex colour -> number of artists/elements using it, summed over figures."""
    usage: Counter = Counter()
    for fig in trace.figures:
        usage.update(fig.colors)
    return usage
