"""The execution trace crosses the sandbox's proto as JSON text and is parsed in one function
(services/codeperception/render_trace.py): what it returns, and that no other module parses it."""
import ast
import json
from pathlib import Path

import pytest

from services.codeperception.render_trace import parse_trace

ROOT = Path(__file__).resolve().parents[3]
# Where RenderResponse.trace_json is received; the sandbox-runner (which writes it, and whose CLI
# prints it) is self-contained and imports nothing from services/.
CONSUMERS = ("gateway", "services")
THE_ONE_PARSER = ROOT / "services" / "codeperception" / "render_trace.py"


def test_a_trace_is_parsed_into_a_dict():
    trace = {"figures": [{"axes": []}], "truncated": False}
    assert parse_trace(json.dumps(trace)) == trace


@pytest.mark.parametrize("text", ["", "{\"figures\": [", "[1, 2]", "\"text\"", "null", "3"],
                         ids=["none", "cut short", "a list", "a string", "null", "a number"])
def test_anything_but_an_object_is_no_trace(text):
    assert parse_trace(text) is None


def _parses_trace_json(call: ast.Call) -> bool:
    """json.loads(<anything mentioning trace_json>) or json.loads(x, ...) on a .trace_json attribute."""
    func = call.func
    named_loads = (isinstance(func, ast.Attribute) and func.attr in ("loads", "load")) or \
        (isinstance(func, ast.Name) and func.id in ("loads", "load"))
    return named_loads and any("trace_json" in ast.unparse(arg) for arg in call.args)


def test_no_other_module_parses_the_trace():
    offenders = []
    for top in CONSUMERS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if path == THE_ONE_PARSER or "_proto" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                          if isinstance(node, ast.Call) and _parses_trace_json(node)]
    assert not offenders, f"parse the trace with render_trace.parse_trace, not again: {offenders}"
