"""The default instruction sent with the image (this project's own wording).

A configuration value (PERCEPT_CODEPERCEPTION_PROMPT or _PROMPT_FILE) replaces it, e.g.
to evaluate with the exact upstream benchmark prompt. A served model trained on its own wording
(the generation contract's `code_prompt`, CodePercept-mini's) is asked in that wording instead
of this one, unless the configuration says otherwise.
"""
from __future__ import annotations

from pathlib import Path

DEFAULT_PROMPT = (
    "Look carefully at the image: it is a figure from a science or mathematics problem. "
    "Write one self-contained Python program that redraws it with matplotlib as faithfully as you can: "
    "the same shapes and their counts, positions and proportions, the same curves, points, labels, "
    "annotations and text, the same colours, line and marker styles, axes, ticks and grid. "
    "Use only numpy, scipy, pandas and matplotlib. Do not read or write any file and do not call "
    "plt.savefig; end with plt.show(). Answer with the complete program in a single ```python code block."
)


def resolve_prompt(text: str, file: str, model_default: str = "") -> str:
    """The instruction from the settings: a prompt file wins over the text, the text over the model's own
    wording (`model_default`), that over DEFAULT_PROMPT."""
    if file:
        content = Path(file).read_text(encoding="utf-8").strip()
        if not content:
            raise ValueError(f"the prompt file {file} is empty")
        return content
    return text.strip() or model_default.strip() or DEFAULT_PROMPT
