"""The execution trace: what each rendered figure contains, as size-bounded JSON.

Recorded while the runner draws each figure at the output DPI (hooks around
Figure.draw, Text.draw and the axis tick update), so texts and ticks are exactly
those drawn and every pixel position matches the returned image (origin top-left).
This is the deterministic ground truth for fidelity scoring and code-grounded
captions:

    {"version": 1, "dpi": 100, "truncated": false, "figures": [{
        "index": 0, "size_inches": [6.4, 4.8], "size_px": [640, 480], "facecolor": "#ffffff",
        "suptitle": null, "legend": [],
        "axes": [{"index": 0, "kind": "rectilinear", "role": "axes",
                  "grid": {"rows": 1, "cols": 2, "row_span": [0, 1], "col_span": [0, 1]},
                  "bbox_px": [x0, y0, x1, y1], "title": "...", "xlabel": "...", "ylabel": "...",
                  "xlim": [a, b], "ylim": [a, b], "xscale": "linear", "yscale": "log",
                  "xticks": [..], "xticklabels": [..], "yticks": [..], "yticklabels": [..],
                  "legend": ["sin", "cos"], "counts": {"lines": 2, ...}, "artist_types": {"Line2D": 2},
                  "colormaps": ["viridis"]}],
        "texts": [{"text": "peak", "role": "text", "axes": 0, "bbox_px": [..], "fontsize": 12.0,
                   "color": "#000000"}],
        "colors": [{"color": "#1f77b4", "count": 3}]}]}

3D axes add "zlabel", "zlim", "zscale", "zticks", "zticklabels"; "artists_3d" counts
artists from mplot3d. Text roles: suptitle, figure_text, title, xlabel/ylabel/zlabel,
xtick/ytick/ztick, legend, legend_title, text, annotation, other.
"""
from __future__ import annotations

import functools
import json
import math
from collections import Counter
from contextlib import contextmanager

MAX_TICKS = 50
MAX_COLORS = 64
MAX_COLORS_PER_COLLECTION = 8
VERSION = 1


def _num(value: float) -> float | None:
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


@functools.lru_cache(maxsize=1024)
def _hex_of(color) -> str | None:
    from matplotlib.colors import to_hex, to_rgba

    try:
        rgba = to_rgba(color)
    except (ValueError, TypeError):
        return None
    if rgba[3] <= 0:
        return None
    return to_hex(rgba, keep_alpha=rgba[3] < 1)


def _hex(color) -> str | None:
    """'#rrggbb' (or '#rrggbbaa' when translucent); None when invisible or not a colour."""
    if not isinstance(color, str):
        try:
            color = tuple(float(c) for c in color)
        except (TypeError, ValueError):
            return None
    return _hex_of(color)


class _FigureDraw:
    def __init__(self, height: float) -> None:
        self.height = height
        self.texts: list[tuple] = []  # (Text, display bbox or None), in drawing order
        self.ticks: dict[int, list[tuple[float, str]]] = {}  # id(axis) -> major ticks drawn


class DrawRecorder:
    """Records what the runner's own drawing of the figures actually draws."""

    def __init__(self) -> None:
        self.figures: dict[int, _FigureDraw] = {}
        self._current: _FigureDraw | None = None
        self.records_ticks = False

    @contextmanager
    def installed(self):
        import matplotlib.axis
        import matplotlib.figure
        import matplotlib.text

        recorder = self
        figure_draw = matplotlib.figure.Figure.draw
        text_draw = matplotlib.text.Text.draw
        update_ticks = getattr(matplotlib.axis.Axis, "_update_ticks", None)

        def draw_figure(fig, renderer):
            recorder._current = recorder.figures[id(fig)] = _FigureDraw(fig.bbox.height)
            try:
                return figure_draw(fig, renderer)
            finally:
                recorder._current = None

        def draw_text(text, renderer):
            result = text_draw(text, renderer)
            current = recorder._current
            if current is not None and text.get_visible() and text.get_text():
                current.texts.append((text, _drawn_extent(text, renderer)))
            return result

        def record_ticks(axis):
            ticks = update_ticks(axis)
            current = recorder._current
            if current is not None:
                major = {id(t) for t in axis.majorTicks}
                current.ticks[id(axis)] = [(t.get_loc(), t.label1.get_text()) for t in ticks if id(t) in major]
            return ticks

        matplotlib.figure.Figure.draw = draw_figure
        matplotlib.text.Text.draw = draw_text
        if update_ticks is not None:
            matplotlib.axis.Axis._update_ticks = record_ticks
            self.records_ticks = True
        try:
            yield self
        finally:
            matplotlib.figure.Figure.draw = figure_draw
            matplotlib.text.Text.draw = text_draw
            if update_ticks is not None:
                matplotlib.axis.Axis._update_ticks = update_ticks


def _drawn_extent(text, renderer):
    """The text's display bbox, as its draw just laid it out.

    Same as Text.get_window_extent, without that method's figure-dpi reset, which
    invalidates every transform of the figure on each call.
    """
    try:
        box, _, _ = text._get_layout(renderer)
        x, y = text.get_transform().transform(text.get_unitless_position())
        return box.translated(x, y)
    except AttributeError:  # a matplotlib without the private layout helper
        return text.get_window_extent(renderer)
    except Exception:  # a text without a finite position
        return None


class _Extractor:
    def __init__(self, fig, drawn: _FigureDraw | None, ticks_recorded: bool) -> None:
        self.fig = fig
        self.drawn = drawn if drawn is not None else _FigureDraw(fig.bbox.height)
        self.ticks_recorded = ticks_recorded
        self.colors: Counter = Counter()
        self.roles: dict[int, tuple[str, int | None]] = {}  # id(Text) -> (role, axes index)

    def box(self, bbox) -> list[float | None] | None:
        if bbox is None:
            return None
        height = float(self.drawn.height)
        x0, y0, x1, y1 = (float(v) for v in bbox.extents)  # numpy scalars round slowly
        if not all(map(math.isfinite, (x0, y0, x1, y1))):
            return None
        return [round(x0, 1), round(height - y1, 1), round(x1, 1), round(height - y0, 1)]

    def count_color(self, color) -> None:
        hexed = _hex(color)
        if hexed:
            self.colors[hexed] += 1

    def count_array_colors(self, colors) -> None:
        import numpy as np

        array = np.asarray(colors, dtype=float)
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] != 4:
            return
        quantized = np.clip(np.round(array * 255), 0, 255).astype(np.uint8)
        unique, counts = np.unique(quantized, axis=0, return_counts=True)
        # A colour-mapped collection has a colour per element: keep its most used few,
        # so that one scatter cannot crowd every other artist's colour out.
        top = np.argsort(-counts, kind="stable")[:MAX_COLORS_PER_COLLECTION]
        for row, count in zip(unique[top], counts[top], strict=True):
            if row[3] == 0:
                continue
            hexed = "#" + "".join(f"{c:02x}" for c in row[:3]) + ("" if row[3] == 255 else f"{row[3]:02x}")
            self.colors[hexed] += int(count)

    def artist_colors(self, artist) -> None:
        from matplotlib.collections import Collection
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        if not artist.get_visible():
            return
        if isinstance(artist, Line2D):
            if artist.get_linestyle() not in ("None", "none", "", " "):
                self.count_color(artist.get_color())
            if artist.get_marker() not in ("None", "none", "", " ", None):
                self.count_color(artist.get_markerfacecolor())
        elif isinstance(artist, Patch):
            if artist.get_fill():
                self.count_color(artist.get_facecolor())
            if artist.get_linewidth() > 0:
                self.count_color(artist.get_edgecolor())
        elif isinstance(artist, Collection):
            self.count_array_colors(artist.get_facecolors())
            widths = artist.get_linewidths()
            if len(widths) and max(widths) > 0:
                self.count_array_colors(artist.get_edgecolors())

    def ticks(self, axis, limits) -> tuple[list, list]:
        drawn = self.drawn.ticks.get(id(axis))
        if drawn is None and self.ticks_recorded:
            drawn = []  # the axis was not drawn (axis off, invisible)
        if drawn is None:  # no hook on this matplotlib: the ticks inside the view
            low, high = sorted(limits)
            slack = 1e-9 * ((high - low) or 1.0)
            # the visible labels of both sides, one side after the other: pairs stop with the locations
            labels = axis.get_majorticklabels()
            drawn = [(v, t.get_text()) for v, t in zip(axis.get_majorticklocs(), labels, strict=False)
                     if low - slack <= v <= high + slack]
        drawn = drawn[:MAX_TICKS]
        return [_num(v) for v, _ in drawn], [label for _, label in drawn]

    def name_texts(self, ax, index: int, names: list[str]) -> None:
        for text in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
            if text is not None:
                self.roles[id(text)] = ("title", index)
        for name in names:
            axis = getattr(ax, f"{name}axis")
            self.roles[id(axis.label)] = (f"{name}label", index)
            for tick in list(axis.majorTicks) + list(axis.minorTicks):
                self.roles[id(tick.label1)] = (f"{name}tick", index)
                self.roles[id(tick.label2)] = (f"{name}tick", index)
        legend = ax.get_legend()
        if legend is not None:
            self.roles[id(legend.get_title())] = ("legend_title", index)
            for text in legend.get_texts():
                self.roles[id(text)] = ("legend", index)
        for text in ax.texts:
            self.roles[id(text)] = ("annotation" if type(text).__name__ == "Annotation" else "text", index)

    def axes(self, ax, index: int) -> dict:
        names = ["x", "y"] + (["z"] if hasattr(ax, "get_zlim") else [])
        self.name_texts(ax, index, names)
        info: dict = {
            "index": index,
            "kind": getattr(ax, "name", "rectilinear"),
            "role": "colorbar" if hasattr(ax, "_colorbar") else "axes",
            "grid": None,
            "bbox_px": self.box(ax.bbox),
            "axis_on": bool(ax.axison),
        }
        spec = ax.get_subplotspec()
        if spec is not None:
            rows, cols = spec.get_gridspec().get_geometry()
            info["grid"] = {"rows": rows, "cols": cols,
                            "row_span": [spec.rowspan.start, spec.rowspan.stop],
                            "col_span": [spec.colspan.start, spec.colspan.stop]}
        info["title"] = ax.get_title("center")
        for loc in ("left", "right"):
            if ax.get_title(loc):
                info[f"title_{loc}"] = ax.get_title(loc)
        for name in names:
            axis = getattr(ax, f"{name}axis")
            limits = getattr(ax, f"get_{name}lim")()
            info[f"{name}label"] = axis.label.get_text()
            info[f"{name}lim"] = [_num(limits[0]), _num(limits[1])]
            info[f"{name}scale"] = axis.get_scale()
            info[f"{name}ticks"], info[f"{name}ticklabels"] = self.ticks(axis, limits)
        legend = ax.get_legend()
        info["legend"] = [t.get_text() for t in legend.get_texts()] if legend is not None else []
        data_artists = (list(ax.lines) + list(ax.patches) + list(ax.collections) + list(ax.texts)
                        + list(ax.images) + list(ax.artists) + list(ax.tables))
        info["counts"] = {
            "lines": len(ax.lines), "patches": len(ax.patches), "collections": len(ax.collections),
            "texts": len(ax.texts), "images": len(ax.images),
            "artists_3d": sum(1 for a in data_artists if type(a).__module__.startswith("mpl_toolkits.mplot3d")),
        }
        info["artist_types"] = dict(Counter(type(a).__name__ for a in data_artists))
        colormaps = []
        for artist in data_artists:
            self.artist_colors(artist)
            get_cmap = getattr(artist, "get_cmap", None)
            if get_cmap is not None and getattr(artist, "get_array", lambda: None)() is not None:
                name = get_cmap().name
                if name not in colormaps:
                    colormaps.append(name)
        info["colormaps"] = colormaps
        aspect = ax.get_aspect()
        info["aspect"] = aspect if isinstance(aspect, str) else _num(aspect)
        return info

    def texts(self) -> list[dict]:
        entries = []
        for text, bbox in self.drawn.texts:
            role, axes_index = self.roles.get(id(text), ("other", None))
            entries.append({"text": text.get_text(), "role": role, "axes": axes_index, "bbox_px": self.box(bbox),
                            "fontsize": _num(text.get_fontsize()), "color": _hex(text.get_color())})
        return entries

    def figure(self, index: int) -> dict:
        fig = self.fig
        suptitle = getattr(fig, "_suptitle", None)
        for text in fig.texts:
            self.roles[id(text)] = ("suptitle" if text is suptitle else "figure_text", None)
        legend_entries = []
        for legend in fig.legends:
            legend_entries += [t.get_text() for t in legend.get_texts()]
            for text in legend.get_texts():
                self.roles[id(text)] = ("legend", None)
        axes = [self.axes(ax, i) for i, ax in enumerate(fig.axes)]
        width, height = fig.get_size_inches()
        return {
            "index": index,
            "size_inches": [_num(width), _num(height)],
            "size_px": [int(round(fig.bbox.width)), int(round(fig.bbox.height))],
            "facecolor": _hex(fig.get_facecolor()),
            "suptitle": suptitle.get_text() if suptitle is not None else None,
            "legend": legend_entries,
            "axes": axes,
            "texts": self.texts(),
            "colors": [{"color": c, "count": n} for c, n in self.colors.most_common(MAX_COLORS)],
        }


def _dump(trace: dict) -> str:
    return json.dumps(trace, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _trim(trace: dict, level: int) -> None:
    """Drop detail, coarsest last, until the trace fits."""
    for fig in trace["figures"]:
        if level >= 1:
            fig["texts"] = [t for t in fig["texts"] if not t["role"].endswith("tick")][:200]
            fig["colors"] = fig["colors"][:16]
            for ax in fig["axes"]:
                for key in [k for k in ax if k.endswith("ticks") or k.endswith("ticklabels")]:
                    ax[key] = ax[key][:10]
        if level >= 2:
            fig["texts"] = [dict(t, text=t["text"][:200]) for t in fig["texts"][:50]]
            fig["axes"] = fig["axes"][:32]
        if level >= 3:
            fig["texts"] = []
            for ax in fig["axes"]:
                for key in [k for k in ax if k.endswith("ticks") or k.endswith("ticklabels")]:
                    ax[key] = []
                ax["artist_types"] = {}
                for key in ("title", "xlabel", "ylabel", "zlabel"):
                    if isinstance(ax.get(key), str):
                        ax[key] = ax[key][:200]
    if level >= 4:
        trace["figures"] = [{"index": f["index"], "size_px": f["size_px"], "axes": len(f["axes"])}
                            for f in trace["figures"]]


def build_trace(figures: list, dpi: int, max_bytes: int, drawn: DrawRecorder | None = None) -> str:
    """The trace of figures the runner drew at `dpi` (under `drawn`), as at most max_bytes of JSON."""
    recorded = drawn.figures if drawn is not None else {}
    ticks_recorded = drawn is not None and drawn.records_ticks
    trace = {"version": VERSION, "dpi": dpi, "truncated": False,
             "figures": [_Extractor(fig, recorded.get(id(fig)), ticks_recorded).figure(i)
                         for i, fig in enumerate(figures)]}
    text = _dump(trace)
    level = 0
    while len(text.encode()) > max_bytes and level < 4:
        level += 1
        trace["truncated"] = True
        _trim(trace, level)
        text = _dump(trace)
    if len(text.encode()) > max_bytes:
        text = _dump({"version": VERSION, "dpi": dpi, "truncated": True, "figures": []})
    return text
