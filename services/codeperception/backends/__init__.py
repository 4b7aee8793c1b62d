"""Generation backends, chosen by PERCEPT_CODEPERCEPTION_BACKEND from the registry (registry.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (
    Backend,
    BackendUnavailable,
    Generation,
    GenerationFailed,
    GenerationOptions,
    InputImage,
    candidate_count,
)
from .registry import BACKEND_NAMES, backend_entry

if TYPE_CHECKING:  # settings imports the registry's names: no import of settings at load time
    from ..settings import CodePerceptionSettings


def create_backend(settings: CodePerceptionSettings) -> Backend:
    entry = backend_entry(settings.backend)
    if entry is None:
        raise BackendUnavailable(f"unknown backend {settings.backend!r} (known: {', '.join(BACKEND_NAMES)})")
    return entry.load()(settings)


__all__ = ["Backend", "BackendUnavailable", "Generation", "GenerationFailed", "GenerationOptions", "InputImage",
           "candidate_count", "create_backend"]
