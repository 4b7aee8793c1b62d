"""Every component's settings module, for the few tools that need all of them at once.

Each component declares its variables with `env()` in its own settings module, and importing
that module fills the registry of `services.common.settings`. The registry sits at the bottom
layer and knows no component; this list sits above every component it names, so that no arrow
runs up from `services/common`. Its users: the generators of the README's table and the chart's
settings file (`services/settings_docs.py`) and `make up`'s start-up check (`services/devstack.py`).
"""
from __future__ import annotations

import importlib

# Modules that declare settings with env(); importing them fills the registry.
SETTINGS_MODULES = (
    "services.common.limits",
    "services.triton.settings",
    "gateway.settings",
    "services.devstack",
    "services.codeperception.settings",
    "services.models.registry",
    "services.evaluation.settings",
    "services.evaluation.synth.settings",
)
# Components that keep their own registry (the sandbox-runner's image carries no platform code),
# as (module, component): each module's declared() lists its settings.
SELF_CONTAINED_SETTINGS = (("percept_sandbox.settings", "sandbox-runner"),)


def import_all_settings() -> None:
    for module in SETTINGS_MODULES:
        importlib.import_module(module)


def self_contained_settings() -> list[tuple[str, str, object, str]]:
    """The self-contained components' declarations, as (component, name, default, help)."""
    rows = []
    for module_name, component in SELF_CONTAINED_SETTINGS:
        module = importlib.import_module(module_name)
        rows += [(component, s.name, s.default, s.help) for s in module.declared()]
    return rows
