"""Which isolation layers a runner's renders actually get, for its start-up log and /metrics.

The zygote reports what it set up (namespaces, seccomp, rlimits); the rest is true of every
render by construction (confine.prepare: a fresh process, an emptied environment, a private
working directory) or measured here (a read-only root filesystem, which in a pod is part of the
outer wall). What the runner cannot see from inside, the RuntimeClass (gVisor) and the
NetworkPolicy, is named as the deployment's part, never claimed as active.
"""
from __future__ import annotations

import os

# The layers of the outer wall that only the deployment provides (helm: sandbox.runtimeClassName,
# networkPolicy); listed in the start-up log of the pod mode.
DEPLOYMENT_LAYERS = ("gVisor RuntimeClass", "NetworkPolicy denying all egress")


def root_is_read_only() -> bool:
    try:
        return bool(os.statvfs("/").f_flag & os.ST_RDONLY)
    except OSError:
        return False


def active_layers(zygote_layers: dict) -> dict[str, bool]:
    """{layer: active} for every layer a render may get."""
    return {
        "namespaces": bool(zygote_layers.get("namespaces")),
        "seccomp": bool(zygote_layers.get("seccomp")),
        "rlimits": bool(zygote_layers.get("rlimits")),
        "fresh_process": True,       # one pre-forked child per render, never reused
        "clean_environment": True,   # the environment is emptied before the program runs
        "private_directory": True,   # a private tmpfs (namespaces) or a 0700 scratch directory
        "read_only_root": root_is_read_only(),
    }


def describe(mode: str, layers: dict[str, bool]) -> str:
    """One start-up log line: the mode, the active and the inactive layers."""
    on = ", ".join(name for name, active in layers.items() if active) or "none"
    off = ", ".join(name for name, active in layers.items() if not active) or "none"
    line = f"isolation mode {mode}: active layers: {on}; inactive: {off}"
    if mode == "pod":
        line += f"; provided by the deployment, not visible from inside: {', '.join(DEPLOYMENT_LAYERS)}"
    return line
