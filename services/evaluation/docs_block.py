"""A report's own block of a Markdown document (docs/benchmarks.md): replaced in place on a rerun,
appended at the end when absent, so each evaluation rewrites only its section; and its plot's file."""
from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_block(doc: Path, name: str, body: str) -> None:
    """Replace the block between `name`'s markers, or append it (with its markers) at the end."""
    start, end = markers(name)
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def save_plot(fig, path: Path, title: str) -> None:
    """A report's matplotlib figure, titled, to `path` (its directory made), then closed."""
    import matplotlib.pyplot as plt

    fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
