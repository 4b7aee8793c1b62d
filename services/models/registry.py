"""The model families this platform builds and serves: one line per family.

Each line names a module exporting `FAMILY`, a `services.models.family.ModelFamily`. The
order matters: `make models` builds in this order, `/v1/models` lists chat models before the
others in this order, and code perception's `triton` backend prefers the first chat model
that is served. More families (a deployment's own, a test's throwaway one) are named at run
time by PERCEPT_MODEL_FAMILIES; they come after these. Every process that loops over the
families (the build, the gateway, code perception) must see the same value.
"""
from __future__ import annotations

import importlib

from services.common.settings import env, parse_csv

from .family import ModelFamily, ModelTask

COMPONENT = "models"

FAMILY_MODULES = (
    "services.models.tokenfd.family",       # text location
    # image-to-code and figure captions; before TokenVL, so that code perception generates with it
    "services.models.codepercept.family",
    "services.models.tokenvl.family",       # chat completions and document VQA
)


def _importable_families(modules: tuple[str, ...]) -> None:
    _load(modules)  # raises ValueError naming the module that is not a family


EXTRA_FAMILIES = env("PERCEPT_MODEL_FAMILIES", (),
                     "Comma-separated modules that each export a model family (`FAMILY`), after the built-in "
                     "ones (docs/adding-a-model-family.md); `make models`, the gateway and code perception "
                     "must see the same list.", component=COMPONENT, parse=parse_csv, check=_importable_families)


def _load(modules: tuple[str, ...]) -> tuple[ModelFamily, ...]:
    families: list[ModelFamily] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(f"model family module {name!r} cannot be imported: {exc}") from None
        family = getattr(module, "FAMILY", None)
        if not isinstance(family, ModelFamily):
            raise ValueError(f"model family module {name!r} exports no FAMILY (a services.models.family.ModelFamily)")
        families.append(family)
    _check_unique([f.name for f in families], "families")
    _check_unique([m.name for f in families for m in f.models], "Triton models")
    return tuple(families)


def _check_unique(names: list[str], what: str) -> None:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"two model families declare the same {what}: {', '.join(twice)}")


def families() -> tuple[ModelFamily, ...]:
    """The built-in families, then PERCEPT_MODEL_FAMILIES' (read now, so a test may set it)."""
    extra = tuple(m for m in EXTRA_FAMILIES.get() if m not in FAMILY_MODULES)
    return _load((*FAMILY_MODULES, *extra))


def family(name: str) -> ModelFamily:
    for candidate in families():
        if candidate.name == name:
            return candidate
    raise KeyError(f"no model family {name!r} (known: {', '.join(f.name for f in families())})")


def models_with_task(task: ModelTask) -> tuple[str, ...]:
    """The Triton models doing `task`, in registry order."""
    return tuple(model.name for f in families() for model in f.models if model.task is task)
