"""What the zygote loads and draws once, so that no render pays for it.

Every child is a copy of the warm zygote: modules imported here, fonts opened and
caches filled by the warm-up figure are already there when plotting code starts.
"""
from __future__ import annotations

import importlib
import io

# The environment of every render (the zygote's and each child's), and of the benchmark's
# in-process floor: one BLAS thread, the Agg backend. Two malloc arenas: glibc otherwise
# reserves 64 MiB of address space per thread's arena, so under RLIMIT_AS a dozen threads
# would exhaust it, and a thread that starts but cannot allocate leaves its starter waiting
# until the timeout; with two, the thread cap (RLIMIT_NPROC) is the limit a program meets.
RENDER_ENV = {"MPLBACKEND": "Agg", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}

# The libraries the jail offers and their commonly used parts. A program may
# import anything else from them; that import just costs it time.
PRELOADED_MODULES = (
    "math", "random", "statistics", "fractions", "decimal", "itertools", "functools", "collections",
    "datetime", "json", "re", "string", "textwrap", "colorsys", "dataclasses", "typing", "warnings",
    "numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.polynomial",
    "matplotlib", "matplotlib.pyplot", "matplotlib.patches", "matplotlib.lines", "matplotlib.colors",
    "matplotlib.cm", "matplotlib.ticker", "matplotlib.gridspec", "matplotlib.collections",
    "matplotlib.path", "matplotlib.transforms", "matplotlib.text", "matplotlib.markers",
    "matplotlib.image", "matplotlib.dates", "matplotlib.tri", "matplotlib.table", "matplotlib.font_manager",
    "matplotlib.texmanager", "matplotlib.dviread",
    "matplotlib.patheffects", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg",
    "mpl_toolkits.mplot3d", "mpl_toolkits.mplot3d.art3d", "mpl_toolkits.axes_grid1",
    "scipy", "scipy.stats", "scipy.integrate", "scipy.optimize", "scipy.signal", "scipy.interpolate",
    "scipy.special", "scipy.linalg", "scipy.spatial", "scipy.ndimage", "scipy.constants", "scipy.fft",
    "pandas",
)


def import_libraries() -> None:
    import matplotlib

    matplotlib.use("Agg")
    # Deterministic SVG element ids, so the same program gives the same bytes.
    matplotlib.rcParams["svg.hashsalt"] = "percept-sandbox"
    matplotlib.rcParamsDefault["svg.hashsalt"] = "percept-sandbox"
    for name in PRELOADED_MODULES:
        importlib.import_module(name)


def draw_warmup_figure() -> None:
    """One figure touching the common artist types, text paths and both output formats."""
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.linspace(0, 2 * np.pi, 50)
    fig = plt.figure(figsize=(8, 6))
    ax = fig.add_subplot(2, 3, 1)
    ax.plot(x, np.sin(x), "o-", label=r"$\sin x$")
    ax.legend()
    ax.set_title("line")
    ax.set_xlabel("x")
    ax.annotate("peak", xy=(1.57, 1), xytext=(3, 0.5), arrowprops={"arrowstyle": "->"})
    ax = fig.add_subplot(2, 3, 2)
    ax.bar(["a", "b", "c"], [1, 3, 2], yerr=[0.1, 0.2, 0.1], color=["C0", "C1", "C2"])
    ax.hist(np.random.default_rng(0).normal(size=100), bins=10, alpha=0.3)
    ax = fig.add_subplot(2, 3, 3)
    points = ax.scatter(x, np.cos(x), c=x, cmap="viridis")
    fig.colorbar(points, ax=ax, label="value")
    ax.fill_between(x, 0, np.cos(x), alpha=0.2)
    ax = fig.add_subplot(2, 3, 4)
    grid = np.outer(np.sin(x), np.cos(x))
    ax.imshow(grid, cmap="RdBu_r")
    ax.contour(grid, levels=4, colors="k")
    ax.text(5, 5, "text", fontsize=12, color="red", fontweight="bold")
    ax = fig.add_subplot(2, 3, 5, projection="polar")
    ax.plot(x, 1 + np.cos(x))
    ax = fig.add_subplot(2, 3, 6, projection="3d")
    X, Y = np.meshgrid(x[::5], x[::5])
    ax.plot_surface(X, Y, np.sin(X) * np.cos(Y), cmap="coolwarm")
    ax.set_zlabel("z")
    fig.suptitle("warm-up")
    fig.tight_layout()
    for fmt in ("png", "svg"):
        fig.savefig(io.BytesIO(), format=fmt, dpi=100)
    fig2, ax2 = plt.subplots()
    ax2.pie([1, 2, 3], labels=["a", "b", "c"], autopct="%1.0f%%")
    ax2.set_xscale("linear")
    fig2.savefig(io.BytesIO(), format="png", dpi=100)
    plt.close("all")
