"""Helpers two families share live in services/models/common (or services/models/checkpoints.py,
tensorrt.py), never in one family's modules: no family imports another's loader, tiling or
export helpers, and none reaches for another's private names."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FAMILIES = ("tokenfd", "tokenvl")
# A family's modules whose helpers are shared through services/models/common instead.
HELPER_MODULES = ("checkpoint", "preprocess", "export_onnx", "artifacts")


def _imports(path: Path):
    """(module, names) of every `from X import names` and `import X` in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _family_sources(family: str):
    return sorted((ROOT / "services" / "models" / family).rglob("*.py"))


def test_no_family_imports_another_familys_helpers_or_private_names():
    found = []
    for family in FAMILIES:
        others = [f"services.models.{other}" for other in FAMILIES if other != family]
        for path in _family_sources(family):
            source = path.read_text()
            for module, names in _imports(path):
                if not module.startswith(tuple(others)):
                    continue
                where = f"{path.relative_to(ROOT)}: {module}"
                if module.rsplit(".", 1)[-1] in HELPER_MODULES:
                    found.append(f"{where} (a shared helper module)")
                found += [f"{where}.{name} (private)" for name in names if name.startswith("_")]
                for name in names:   # `from ..tokenfd import checkpoint as x` then x._private
                    if name in HELPER_MODULES:
                        found.append(f"{where}.{name} (a shared helper module)")
            if "tokenfd_checkpoint._" in source:
                found.append(f"{path.relative_to(ROOT)}: a private name of TokenFD's loader")
    assert not found, "\n".join(found)


def test_both_families_use_the_common_helpers():
    for family in FAMILIES:
        modules = {module for path in _family_sources(family) for module, _ in _imports(path)}
        assert "services.models.common" in modules or any(m.startswith("services.models.common.") for m in modules)
