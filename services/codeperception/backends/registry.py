"""The generation backends code perception can run, one line each: the name
PERCEPT_CODEPERCEPTION_BACKEND selects, where its class lives (imported only when chosen: the
`openai` client is not loaded by a service running `triton`), and the backend_options keys it
takes with their types (the gateway's OpenAPI document states them from here too).

A new backend is a module in this package with a class following `base.Backend`, and one line
here; nothing else chooses between backends.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class BackendEntry:
    name: str
    module: str                      # relative to this package
    class_name: str
    options: Mapping[str, type] = field(default_factory=dict)  # backend_options keys and their types
    # Renders a request spends refining its best candidate unless it or PERCEPT_CODEPERCEPTION_REFINE_RENDERS
    # says otherwise (services/codeperception/refinement.py). Retrieval's programs are the right kind of figure
    # with another figure's numbers, which is what the refinement reads back; other backends answer as they
    # are unless asked.
    refine_renders: int = 0

    def load(self) -> type:
        return getattr(importlib.import_module(self.module, __package__), self.class_name)


VERIFIED_REFINE_RENDERS = 16   # docs/codepercept-mini.md, "Refinement": its cost and gain

BACKENDS = (
    BackendEntry("reference", ".reference", "ReferenceBackend"),
    BackendEntry("openai", ".openai_chat", "OpenAIChatBackend",
                 {"top_k": int, "repetition_penalty": float, "presence_penalty": float}),
    BackendEntry("triton", ".triton", "TritonGenerationBackend", {"stop": str}),
    BackendEntry("retrieval", ".retrieval", "RetrievalBackend"),
    BackendEntry("verified", ".verified", "VerifiedBackend", {"stop": str}, refine_renders=VERIFIED_REFINE_RENDERS),
)
BACKEND_NAMES = tuple(entry.name for entry in BACKENDS)


def backend_entry(name: str) -> BackendEntry | None:
    return next((entry for entry in BACKENDS if entry.name == name), None)
