"""STEM2Code-Eval's protocol constants, and upstream's execution rule for comparison.

The harness renders through the sandbox, which records every figure and saves it itself
at the protocol's DPI (docs/evaluation.md, "Deviations"). `upstream_script` rebuilds the
script upstream runs as a bare `python` subprocess -- the font prelude, then the save
injected by line rule -- so the benchmark can time that pattern and the tests can show
where the rule breaks (`fig.savefig`, a `plt.savefig(` call spanning lines).
"""
from __future__ import annotations

DPI = 300                  # the injected save's dpi
EXEC_TIMEOUT_S = 30.0      # upstream's subprocess timeout
SCORE_SCALE = 100.0        # judge scores and exec rate are out of 100

# Prepended by upstream so CJK labels and icons find a font (our own wording of the same idea).
FONT_PRELUDE = (
    "import matplotlib\n"
    "matplotlib.rcParams['font.sans-serif'] = ['Noto Sans CJK SC', 'Noto Color Emoji'] + "
    "list(matplotlib.rcParams['font.sans-serif'])\n"
    "matplotlib.rcParams['axes.unicode_minus'] = False\n"
)


def save_call(out_path: str, dpi: int = DPI) -> str:
    return f"plt.savefig({out_path!r}, dpi={dpi})"


def inject_save(code: str, out_path: str, dpi: int = DPI) -> str:
    """Upstream's line rule: at the first line containing `plt.savefig(` or `plt.show()`, a
    savefig line is replaced by the save (same indentation), a show line gets the save inserted
    before it; with neither, the save is appended. Later lines are left alone.

    Faithful to upstream, hazards included: `fig.savefig(...)` is not seen (the appended save
    then writes whatever figure is current, blank after `plt.close()`), and only the first line
    of a multi-line `plt.savefig(` call is replaced, which leaves the rest as a syntax error."""
    lines = code.splitlines()
    save = save_call(out_path, dpi)
    for position, line in enumerate(lines):
        if "plt.savefig(" in line or "plt.show()" in line:
            indent = line[: len(line) - len(line.lstrip())]
            if "plt.savefig(" in line:
                lines[position] = indent + save
            else:
                lines.insert(position, indent + save)
            return "\n".join(lines) + "\n"
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join([*lines, save]) + "\n"


def upstream_script(code: str, out_path: str, dpi: int = DPI) -> str:
    """The whole script upstream runs for one sample."""
    return FONT_PRELUDE + inject_save(code, out_path, dpi)
