"""Generation backends, chosen by PERCEPT_CODEPERCEPTION_BACKEND."""
from __future__ import annotations

from ..settings import CodePerceptionSettings
from .base import Backend, BackendUnavailable, Generation, GenerationFailed, GenerationOptions, InputImage


def create_backend(settings: CodePerceptionSettings) -> Backend:
    if settings.backend == "reference":
        from .reference import ReferenceBackend
        return ReferenceBackend(settings)
    if settings.backend == "openai":
        from .openai_chat import OpenAIChatBackend
        return OpenAIChatBackend(settings)
    if settings.backend == "triton":
        from .triton import TritonGenerationBackend
        return TritonGenerationBackend(settings)
    raise BackendUnavailable(f"unknown backend {settings.backend!r}")


__all__ = ["Backend", "BackendUnavailable", "Generation", "GenerationFailed", "GenerationOptions", "InputImage",
           "create_backend"]
