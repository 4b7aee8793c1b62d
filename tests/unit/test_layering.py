"""Imports run down the layers, never up, read from the source (ast) so that a lazy import
inside a function counts too:

- `services/common` is the bottom layer: it imports nothing else of the platform (the
  generators that read every component's settings sit above them, in `services/`);
- the sandbox's core (jail, render, pool and the top-level modules they use) imports nothing
  from its API layer (`percept_sandbox/api`); the stable entry points that re-export api/
  (cli.py, client.py, server.py) are part of that layer.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox-runner"
# Top-level packages of this repository; anything else is the standard library or a dependency.
FIRST_PARTY = {"gateway", "services", "percept_sandbox", "model_repository", "tests"}
SANDBOX_API = "percept_sandbox.api"
SANDBOX_API_ENTRY_POINTS = {"percept_sandbox.cli", "percept_sandbox.client", "percept_sandbox.server"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, relative imports resolved against `module`; a literal
    `importlib.import_module("x")` or `__import__("x")` counts as an import of x."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` may import the submodule a.b: count the name with its module.
            found |= {base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names}
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id == "__import__"))):
            found.add(node.args[0].value)
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def upward_from_common(imports: set[str]) -> set[str]:
    return {name for name in imports
            if name.split(".")[0] in FIRST_PARTY and not _within(name, "services.common")}


def sandbox_api_imports(imports: set[str]) -> set[str]:
    return {name for name in imports
            if any(_within(name, api) for api in (SANDBOX_API, *SANDBOX_API_ENTRY_POINTS))}


def _modules(directory: Path, root: Path) -> list[tuple[str, Path]]:
    return [(module_name(path, root), path) for path in sorted(directory.rglob("*.py"))]


def _imports_of(path: Path, module: str) -> set[str]:
    return imported_modules(path.read_text(), module, is_package=path.name == "__init__.py")


COMMON = _modules(ROOT / "services" / "common", ROOT)
SANDBOX_CORE = [(name, path) for name, path in _modules(SANDBOX / "percept_sandbox", SANDBOX)
                if not _within(name, SANDBOX_API) and name not in SANDBOX_API_ENTRY_POINTS
                and not _within(name, "percept_sandbox._proto")]


def test_the_modules_are_found():
    assert "services.common.settings" in dict(COMMON)
    assert {"percept_sandbox.pool.sandbox_pool", "percept_sandbox.jail.linux", "percept_sandbox.config"} \
        <= set(dict(SANDBOX_CORE))


@pytest.mark.parametrize("module,path", COMMON, ids=[name for name, _ in COMMON])
def test_services_common_imports_nothing_above_it(module, path):
    assert not upward_from_common(_imports_of(path, module)), \
        f"{module} imports from a layer above services/common"


@pytest.mark.parametrize("module,path", SANDBOX_CORE, ids=[name for name, _ in SANDBOX_CORE])
def test_the_sandbox_core_imports_nothing_from_its_api_layer(module, path):
    assert not sandbox_api_imports(_imports_of(path, module)), f"{module} imports the sandbox's API layer"


# The checks themselves, on the imports they exist to catch.

@pytest.mark.parametrize("source", [
    "from gateway import settings",
    "import services.triton.settings",
    "def f():\n    from services.codeperception import settings",
    "import importlib\nimportlib.import_module('gateway.settings')",
    "from .. import devstack",
    "from ..triton.settings import GRPC_PORT",
    "import percept_sandbox.settings",
])
def test_an_upward_import_from_common_is_caught(source):
    assert upward_from_common(imported_modules(source, "services.common.settings"))


@pytest.mark.parametrize("source", [
    "from . import limits", "from .errors import PerceptError", "from services.common import limits",
    "import numpy as np", "import importlib\nimportlib.import_module('json')",
])
def test_imports_within_common_pass(source):
    assert not upward_from_common(imported_modules(source, "services.common.images"))


@pytest.mark.parametrize("source", [
    "from ..api.metrics import Metrics",
    "from .. import api",
    "from ..api import protos",
    "from percept_sandbox.api.server import serve",
    "from ..server import serve",
])
def test_a_core_import_of_the_sandbox_api_is_caught(source):
    assert sandbox_api_imports(imported_modules(source, "percept_sandbox.pool.sandbox_pool"))


def test_relative_imports_resolve_from_a_package():
    assert imported_modules("from .api import protos", "percept_sandbox", is_package=True) \
        == {"percept_sandbox.api.protos"}
    assert imported_modules("from .metrics import Metrics", "percept_sandbox.pool.sandbox_pool") \
        == {"percept_sandbox.pool.metrics.Metrics"}
