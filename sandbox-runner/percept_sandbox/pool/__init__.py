"""The trusted side: the pool, its zygote and the life of each jailed child.

`SandboxPool` is loaded on first use, so the zygote (which imports pool.zygote) does
not import the pool's own machinery (threads, subprocess, Prometheus) into every child.
"""
from __future__ import annotations


def __getattr__(name: str):
    if name == "SandboxPool":
        from .sandbox_pool import SandboxPool

        return SandboxPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SandboxPool"]
