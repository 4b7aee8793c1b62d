"""The execution trace as it crosses the sandbox's proto: `RenderResponse.trace_json`, a JSON
object (docs/sandbox.md, "Execution trace"), parsed here and nowhere else. Its callers (the
gateway, the service's Score and best-of-N, the evaluation harness, the data engine) receive a
dict or None; `fidelity/trace.py` reads that dict into typed views.
"""
from __future__ import annotations

import json


def parse_trace(trace_json: str) -> dict | None:
    """The trace as a dict; None when the render carried none (not asked for, or not OK).

    The sandbox writes one JSON object and trims it to fit its size limit, so anything else
    (text that does not parse, another JSON type) reads as no trace rather than as an error."""
    if not trace_json:
        return None
    try:
        parsed = json.loads(trace_json)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
