"""The model-family interface: what one family under `services/models/<family>/` builds and serves.

A family package exports one `ModelFamily` (as `FAMILY` in its `family` module), and the
registry (`services/models/registry.py`) lists the families, one line each. Everything that
used to name a family loops over the registry instead:

- `make models` (`services/models/build_default.py`) calls each family's `build` and writes
  every family's Triton entries into one model repository;
- the gateway's `/readyz` checks each family's probed Triton models, and `/v1/models` lists
  each family's listed models with their task;
- code perception's `triton` backend prefers the registry's chat models, in registry order,
  when several served models implement the generation contract.

This module is imported by serving paths (the gateway, code perception): it stays free of
torch and of Triton's client libraries; a family's `build` imports its export tooling lazily.
docs/adding-a-model-family.md walks through adding one.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from services.triton.repository import FamilyEntries, Target


class ModelTask(str, Enum):
    """What a served model does, as `GET /v1/models` names it on the model's card."""
    chat = "chat"                     # chat completions and document VQA (the generation contract)
    text_location = "text-location"   # POST /v1/text/locate
    image_to_code = "image-to-code"   # POST /v1/stem/image-to-code (code perception's generator)


@dataclass(frozen=True)
class TritonModel:
    """One Triton model a family serves.

    `task`: listed on `/v1/models` with this task (None: an internal model, e.g. an encoder
    that only the family's own models call). A `chat` model implements the generation
    contract (services/triton/generation.py) and chat requests may name it.
    `probed`: `/readyz`'s Triton domain ("text") is ready only while this model is; leave it
    False for a model a deployment may go without (it is then listed only while it is served)."""
    name: str
    task: ModelTask | None = None
    probed: bool = False


@dataclass(frozen=True)
class BuildRequest:
    """What `make models` asks of a family."""
    out: Path                      # the artifacts directory: <out>/checkpoints/<name>, <out>/export/<name>
    target: Target
    checkpoint: Path | None = None  # a checkpoint directory (its upstream layout); None: the tiny seeded one
    options: Any = None            # the family's build options (its `parse_options` value); None: its defaults
    log: Callable[..., None] = print

    def checkpoint_and_export(self, tiny: Callable[..., Any], tiny_name: str, seed: int) -> tuple[Path, Path]:
        """The checkpoint to export (the one asked for, else the tiny seeded one that
        `tiny(directory, seed=seed)` writes at <out>/checkpoints/<tiny_name>) and its export
        directory, <out>/export/<the checkpoint's name>."""
        checkpoint = self.checkpoint
        if checkpoint is None:
            self.log(f"building the tiny seeded checkpoint {tiny_name} (seed {seed}) ...")
            checkpoint = Path(tiny(self.out / "checkpoints" / tiny_name, seed=seed))
        export_dir = self.out / "export" / checkpoint.name
        self.log(f"exporting {checkpoint} to {export_dir} ...")
        return checkpoint, export_dir


@dataclass(frozen=True)
class BuiltFamily:
    """What a family's build left: the checkpoint it exported, the export, its repository entries."""
    checkpoint: Path
    export: Path
    entries: FamilyEntries


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def _no_options(args: argparse.Namespace) -> None:
    return None


@dataclass(frozen=True)
class ModelFamily:
    """A model family: its name, the Triton models it serves (with their tasks), and its build.

    `build` makes the artifacts from `BuildRequest.checkpoint` (or the family's tiny seeded
    checkpoint), exports them for the target, and returns the family's Triton repository
    entries; it must check its inputs before writing, and import torch only inside itself.
    `add_arguments` / `parse_options` give the family its own `build_default` flags and turn
    them into the `options` its build takes. `checkpoint_flag` names an older flag kept as an
    alias of `--family-checkpoint <name>=DIR`."""
    name: str
    models: tuple[TritonModel, ...]
    build: Callable[[BuildRequest], BuiltFamily]
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    parse_options: Callable[[argparse.Namespace], Any] = _no_options
    checkpoint_flag: str | None = None

    @property
    def tasks(self) -> tuple[ModelTask, ...]:
        return tuple(dict.fromkeys(model.task for model in self.models if model.task is not None))

    def listed(self) -> tuple[TritonModel, ...]:
        """The models `/v1/models` lists."""
        return tuple(model for model in self.models if model.task is not None)

    def probed(self) -> tuple[str, ...]:
        """The Triton models `/readyz` checks."""
        return tuple(model.name for model in self.models if model.probed)
