"""The one render sequence: program text in; status, figures and trace out.

Used by the jailed child (pool/child.py) and, without any isolation, in this
process (`render_in_process`: the benchmark's floor, the zygote's warm-up and its
pre-fault probes). The sequence sets no timer and frees nothing: a child is
discarded after one render, and an in-process caller undoes the render's changes
afterwards (`restored_matplotlib`), outside anything it times.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from . import trace
from .protocol import (
    FigureRecorder,
    Outcome,
    OutputLimitExceeded,
    RenderLimits,
    RenderTimeout,
    compile_program,
    render_figures,
    run_program,
    safe_str,
    type_name,
)
from .results import DEFAULT_OPTIONS, RenderedFigure, RenderOptions, Status

# Generous limits for trusted in-process use (the jail's come from SandboxConfig.render_limits()).
IN_PROCESS_LIMITS = RenderLimits(max_figures=64, max_figure_pixels=10**9, max_image_bytes=10**10,
                                 max_trace_bytes=1 << 22)


@dataclass
class RenderOutput:
    outcome: Outcome  # its status is never None here
    figures: list[RenderedFigure] = field(default_factory=list)
    trace_json: str = ""  # empty unless requested and OK


def render(code: str, options: RenderOptions, limits: RenderLimits,
           recorder: FigureRecorder | None = None) -> RenderOutput:
    """Compile and run the program, then draw and save its figures and build the trace."""
    recorder = recorder if recorder is not None else FigureRecorder()
    figures: list[RenderedFigure] = []
    trace_json = ""
    try:
        recorder.install()
        compiled = compile_program(code)
        outcome = compiled if isinstance(compiled, Outcome) else run_program(compiled)
        if outcome.status is None:
            drawable = recorder.figures()
            if not drawable:
                outcome = Outcome(Status.NO_FIGURE, detail="the program drew no figure")
            else:
                drawn = trace.DrawRecorder()
                with drawn.installed() if options.trace else contextlib.nullcontext():
                    figures = render_figures(recorder, drawable, options.dpi, options.format, limits)
                if options.trace:
                    trace_json = trace.build_trace(drawable, options.dpi, limits.max_trace_bytes, drawn)
                outcome = Outcome(Status.OK)
    except RenderTimeout:
        outcome = Outcome(Status.TIMEOUT, "TimeoutError", "the program ran past its time limit")
    except MemoryError:
        outcome = Outcome(Status.MEMORY_LIMIT, "MemoryError", "out of memory", "the program exceeded its memory limit")
    except OutputLimitExceeded as exc:
        outcome = Outcome(Status.OUTPUT_LIMIT, "OutputLimitExceeded", str(exc), str(exc))
    except Exception as exc:  # drawing the program's figure failed: the program's fault
        outcome = Outcome(Status.EXEC_ERROR, type_name(exc), safe_str(exc), "rendering the figure failed")
    if outcome.status is not Status.OK:
        figures, trace_json = [], ""
    return RenderOutput(outcome, figures, trace_json)


@contextlib.contextmanager
def restored_matplotlib():
    """Undo, on leaving, what a render changed in this process: the recorder's patches,
    rcParams, open figures and the working directory. Yields the recorder to render with."""
    import matplotlib
    import matplotlib.pyplot as plt

    cwd = os.getcwd()
    recorder = FigureRecorder()
    with matplotlib.rc_context():
        try:
            yield recorder
        finally:
            recorder.uninstall()
            os.chdir(cwd)
            plt.close("all")


def render_in_process(code: str, options: RenderOptions = DEFAULT_OPTIONS,
                      limits: RenderLimits = IN_PROCESS_LIMITS) -> RenderOutput:
    """The render sequence in this process, without any isolation; matplotlib restored after."""
    with restored_matplotlib() as recorder:
        return render(code, options, limits, recorder)
