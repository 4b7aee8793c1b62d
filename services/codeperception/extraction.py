"""The program in a model's answer, by the STEM2Code-Eval rule.

Only the text after the last `</think>` counts (a reasoning model's thoughts may hold
drafts); in it the first ```python block, else the first plain ``` block, else there is
no code. A fence with another language tag (```json) is not code.
"""
from __future__ import annotations

import re

THINK_END = "</think>"
# An opening fence at a line start, an optional language tag, the body, the closing fence.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)^[ \t]*```", re.S | re.M)


def answer_text(answer: str) -> str:
    """The part of an answer after the model's thinking, if it thought."""
    _, marker, after = answer.rpartition(THINK_END)
    return after if marker else answer


def fenced(code: str) -> str:
    """A program as an answer this rule reads back: one ```python block (how retrieved programs are answered,
    and what CodePercept-mini is trained to write)."""
    return f"```python\n{code.rstrip(chr(10))}\n```\n"


def extract_code(answer: str) -> str | None:
    """The program, or None (the NO_CODE case)."""
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(answer_text(answer))]
    for wanted in ("python", ""):
        for language, body in blocks:
            if language == wanted and body.strip():
                return body.strip("\n") + "\n"
    return None
