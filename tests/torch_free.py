"""Run Python code in a fresh interpreter and fail if it loaded torch or transformers: the
serving paths must run in images that do not ship them (the checks in tests/unit)."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers")
_CHECK = ("\nimport sys as _sys\n"
          f"_bad = sorted(m for m in _sys.modules if m.split('.')[0] in {HEAVY!r})\n"
          "print(','.join(_bad)); _sys.exit(1 if _bad else 0)\n")


def assert_runs_without_torch(code: str, *, timeout_s: float = 120) -> None:
    """`code` (statements) runs to its end in a new interpreter without importing torch or
    transformers; the assertion names what it imported, or how it failed."""
    result = subprocess.run([sys.executable, "-c", code + _CHECK], capture_output=True, text=True,
                            timeout=timeout_s)
    assert result.returncode == 0, f"imports [{result.stdout.strip()}] {result.stderr[-800:]}"
