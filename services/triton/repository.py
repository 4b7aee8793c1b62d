"""The one writer of Triton model repositories, for every model family and both targets.

A model family (TokenFD: services.models.tokenfd.triton.repository) describes its
models as `ModelEntry`s -- a config message and the files of the model's directory --
and `build_repository` writes the entries of one or more families:

    <out>/
      build.json                 what was built, from what (not read by Triton)
      <model>/config.pbtxt       the entry's config
      <model>/<files>            e.g. 1/model.py, 1/encoder.onnx, warmup/...

Configs are protobuf messages of Triton's own schema (tritonclient's
model_config_pb2) rendered to text format, so a field the server would reject fails
here, at build time. The repository is assembled beside `out` and swapped in at the
end, so a failed build never leaves a half-written repository behind.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Mapping, Sequence

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_SOURCES = REPO_ROOT / "model_repository"   # python-backend model.py sources, one directory per model
MANIFEST = "build.json"
VERSION = "1"                                    # every model is served as version 1


class Target(str, Enum):
    CPU = "cpu"
    GPU = "gpu"


@dataclass(frozen=True)
class ModelEntry:
    """One model of the repository: its config and the files of its directory.

    `files` maps a path inside the model directory ("1/model.onnx") to a source file,
    which is hard-linked when possible (artifacts can be GBs), or to the bytes to write."""
    config: mc.ModelConfig
    files: Mapping[str, Path | bytes] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True)
class FamilyEntries:
    """What one model family contributes to a repository."""
    family: str
    models: Sequence[ModelEntry]
    manifest: Mapping[str, object] = field(default_factory=dict)  # JSON: what it was built from


# --- config messages -------------------------------------------------------------------

def tensor(cls, name: str, data_type: int, dims, *, optional: bool = False):
    """A ModelInput or ModelOutput message."""
    message = cls(name=name, data_type=data_type, dims=list(dims))
    if optional:
        message.optional = True
    return message


def apply_contract(config: mc.ModelConfig, contract) -> mc.ModelConfig:
    """Declare a model contract's tensors (a services.triton.generation.ModelContract) on a
    config: its inputs and outputs, and the decoupled transaction policy when it streams."""
    def data_type(name: str) -> int:
        return mc.DataType.Value(f"TYPE_{name}")

    config.input.extend(tensor(mc.ModelInput, t.name, data_type(t.data_type), t.dims, optional=t.optional)
                        for t in contract.inputs)
    config.output.extend(tensor(mc.ModelOutput, t.name, data_type(t.data_type), t.dims) for t in contract.outputs)
    if contract.decoupled:
        config.model_transaction_policy.decoupled = True
    return config


def set_parameters(config: mc.ModelConfig, values: Mapping[str, object]) -> None:
    """Config parameters (strings in Triton's schema; booleans as true/false)."""
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        config.parameters[key].string_value = str(value)


def render(config: mc.ModelConfig) -> str:
    return text_format.MessageToString(config)


def parse(text: str) -> mc.ModelConfig:
    return text_format.Parse(text, mc.ModelConfig())


def model_source(model: str) -> bytes:
    """The python-backend model.py of `model` (model_repository/<model>/model.py), as bytes:
    copied, never linked, so editing a built repository cannot edit the source."""
    return require(MODEL_SOURCES / model / "model.py", "a python-backend model needs its source").read_bytes()


def require(path: Path, hint: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing ({hint})")
    return path


# --- files ------------------------------------------------------------------------------

def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link big artifacts when possible (a 4096-d embedding table is 1.5 GB)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _write_model(directory: Path, entry: ModelEntry) -> None:
    directory.mkdir()
    (directory / "config.pbtxt").write_text(render(entry.config))
    for relative, source in entry.files.items():
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise ValueError(f"{entry.name}: file {relative!r} is outside its model directory")
        destination = directory / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            destination.write_bytes(source)
        else:
            link_or_copy(Path(source), destination)


def build_repository(out: str | os.PathLike, target: Target | str, families: Sequence[FamilyEntries]) -> Path:
    """Write the models of `families` into `out`, replacing a repository built here before
    (never a foreign directory), atomically."""
    target = Target(target)
    out = Path(out).resolve()
    names = [entry.name for family in families for entry in family.models]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"two model entries are named {', '.join(duplicates)}")
    if not names:
        raise ValueError("no models to build")
    if out.exists() and not (out / MANIFEST).exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not a repository built here; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for family in families:
            for entry in family.models:
                _write_model(staging / entry.name, entry)
        manifest = {"target": target.value, "models": names,
                    "families": {family.family: dict(family.manifest) for family in families}}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
