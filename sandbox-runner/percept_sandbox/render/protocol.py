"""The render protocol: run plotting code, then let the runner save its figures.

The code never decides what is returned. Every figure it creates is recorded in
creation order; `plt.show()`, `plt.savefig(...)` and `fig.savefig(...)` to a path
do nothing (so any path, a multi-line call, or a call before `plt.close()` is
fine); after the code finishes, each non-empty figure is rendered once, in its
final state, at the DPI the request chose. Figure size is the code's.

The sequence that uses it is sequence.py; this module does no isolation of its own.
"""
from __future__ import annotations

import builtins
import io
import os
import struct
import sys
import traceback
from dataclasses import dataclass

from .results import ImageFormat, RenderedFigure, Status

FILENAME = "<render>"
AGG_MAX_SIDE = 32767  # Agg cannot draw larger


class RenderTimeout(BaseException):
    """Raised into the program when its time is up; BaseException so `except Exception` misses it."""


class OutputLimitExceeded(Exception):
    pass


@dataclass
class Outcome:
    status: Status | None = None  # None: the program completed
    error_type: str = ""
    error_message: str = ""
    detail: str = ""


@dataclass(frozen=True)
class RenderLimits:
    """What one render may return (SandboxConfig.render_limits() gives the configured ones)."""

    max_figures: int
    max_figure_pixels: int
    max_image_bytes: int
    max_trace_bytes: int


class FigureRecorder:
    """Records figures in creation order and neutralises show/savefig/backend switches."""

    def __init__(self) -> None:
        self.created: list = []
        self._saved_attrs: list[tuple[object, str, object]] = []

    def _patch(self, owner: object, name: str, value: object) -> None:
        self._saved_attrs.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def install(self) -> None:
        import matplotlib
        import matplotlib.figure
        import matplotlib.pyplot as plt

        plt.switch_backend("agg")  # resolve pyplot's backend before switching is disabled
        recorder = self
        figure_cls = matplotlib.figure.Figure
        original_init = figure_cls.__init__
        original_savefig = figure_cls.savefig

        def init(fig, *args, **kwargs):
            original_init(fig, *args, **kwargs)
            recorder.created.append(fig)

        def savefig(fig, fname=None, *args, **kwargs):
            # A path is ignored: the runner saves. A file object gets a real image,
            # for code that reads its own plot back.
            if fname is not None and hasattr(fname, "write"):
                return original_savefig(fig, fname, *args, **kwargs)
            return None

        def pyplot_savefig(*args, **kwargs):
            return plt.gcf().savefig(*args, **kwargs)  # without pyplot's extra draw

        def nothing(*args, **kwargs):
            return None

        self._patch(figure_cls, "__init__", init)
        self._patch(figure_cls, "savefig", savefig)
        self._patch(figure_cls, "show", nothing)
        self._patch(plt, "savefig", pyplot_savefig)
        self._patch(plt, "show", nothing)
        self._patch(plt, "pause", nothing)
        self._patch(plt, "ion", nothing)
        self._patch(plt, "switch_backend", nothing)
        self._patch(matplotlib, "use", nothing)
        self._patch(matplotlib, "interactive", nothing)
        self.original_savefig = original_savefig

    def uninstall(self) -> None:
        while self._saved_attrs:
            owner, name, value = self._saved_attrs.pop()
            setattr(owner, name, value)

    def figures(self) -> list:
        """Figures with anything drawn on them, in creation order, without duplicates."""
        seen: set[int] = set()
        result = []
        for fig in self.created:
            if id(fig) in seen:
                continue
            seen.add(id(fig))
            if any(child is not fig.patch for child in fig.get_children()):
                result.append(fig)
        return result


def compile_program(code: str):
    """Compiled code, or an Outcome saying why it was not run."""
    try:
        return compile(code, FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
        return Outcome(Status.REJECTED, type(exc).__name__, str(exc), "the program does not compile")
    except (MemoryError, RecursionError) as exc:
        return Outcome(Status.REJECTED, type(exc).__name__, str(exc), "the program is too deeply nested")


def _print_traceback(exc: BaseException) -> None:
    """The program's traceback on its stderr, from its own frames only."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    try:
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
        sys.stderr.flush()
    except Exception:
        pass


def run_program(code_object) -> Outcome:
    """Execute compiled code as `__main__` and classify how it ended."""
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": FILENAME}
    runner_pid = os.getpid()
    try:
        try:
            exec(code_object, namespace)
        finally:
            if os.getpid() != runner_pid:
                os._exit(0)  # a forked process (possible only without seccomp) must never act as the runner
    except RenderTimeout:
        return Outcome(Status.TIMEOUT, "TimeoutError", "the program ran past its time limit")
    except MemoryError as exc:
        return Outcome(Status.MEMORY_LIMIT, "MemoryError", str(exc) or "out of memory",
                       "the program exceeded its memory limit")
    except SystemExit as exc:
        code = exc.code
        if code is None or (type(code) is int and code == 0):
            return Outcome()
        return Outcome(Status.EXEC_ERROR, "SystemExit", safe_str(code), "the program exited with an error")
    except BaseException as exc:  # the program's own failure, whatever it is
        _print_traceback(exc)
        return Outcome(Status.EXEC_ERROR, type_name(exc), safe_str(exc), "the program raised an exception")
    return Outcome()


def safe_str(value: object) -> str:
    try:
        return str(value)[:4096]
    except Exception:  # a hostile __str__
        return "<unprintable>"


def type_name(value: object) -> str:
    try:
        return str(type.__dict__["__name__"].__get__(type(value)))[:200]
    except Exception:
        return "<unknown>"


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def render_figures(recorder: FigureRecorder, figures: list, dpi: int, fmt: ImageFormat,
                   limits: RenderLimits) -> list[RenderedFigure]:
    """Save each figure at `dpi`; raises OutputLimitExceeded past the limits."""
    if len(figures) > limits.max_figures:
        raise OutputLimitExceeded(f"the program made {len(figures)} figures; the limit is {limits.max_figures}")
    rendered: list[RenderedFigure] = []
    total = 0
    for index, fig in enumerate(figures):
        width_in, height_in = fig.get_size_inches()
        width, height = int(round(width_in * dpi)), int(round(height_in * dpi))
        if width < 1 or height < 1:
            raise OutputLimitExceeded(f"figure {index} has no area ({width_in:g}x{height_in:g} in)")
        if width * height > limits.max_figure_pixels or max(width, height) > AGG_MAX_SIDE:
            raise OutputLimitExceeded(
                f"figure {index} would be {width}x{height} px at {dpi} dpi; the limit is "
                f"{limits.max_figure_pixels} px and {AGG_MAX_SIDE} px a side")
        # Draw at the output DPI itself, so the trace's pixel positions match the image.
        fig.set_dpi(dpi)
        buffer = io.BytesIO()
        kwargs = {"metadata": {"Date": None}} if fmt is ImageFormat.SVG else {}
        recorder.original_savefig(fig, buffer, format=fmt.value, dpi=dpi, bbox_inches=None, **kwargs)
        data = buffer.getvalue()
        total += len(data)
        if total > limits.max_image_bytes:
            raise OutputLimitExceeded(f"the images exceed {limits.max_image_bytes} bytes")
        if fmt is ImageFormat.PNG:
            width, height = _png_size(data)
        rendered.append(RenderedFigure(index, fmt, data, width, height))
    return rendered
