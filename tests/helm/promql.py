"""PromQL expressions of the dashboard and the alerts: parsed with a real PromQL parser
(promql-parser, from requirements/helm-tools.txt, installed under the venv's helm-tools)."""
from __future__ import annotations

import sys

from tests.helm.chart import TOOLS

if str(TOOLS / "site") not in sys.path:
    sys.path.append(str(TOOLS / "site"))

import promql_parser  # noqa: E402


def metric_names(expression: str) -> set[str]:
    """Every metric a PromQL expression selects; a syntax error raises ValueError."""
    try:
        tree = promql_parser.parse(expression)
    except Exception as exc:  # the binding raises its own error types
        raise ValueError(f"{expression!r} does not parse: {exc}") from exc
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, promql_parser.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")

    promql_parser.walk(tree, visit)
    return names
