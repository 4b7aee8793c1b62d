"""What every strict checkpoint loader (services/models/*/checkpoint.py) shares: reading an
upstream directory's config.json and its weights (one file or shards, safetensors or .bin), and
one report shape, so each lists missing, unexpected and mis-shaped tensors the same way.

`error` is the family's CheckpointError: a checkpoint's fault is reported as that family's."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
BIN_FILE = "pytorch_model.bin"
BIN_INDEX = "pytorch_model.bin.index.json"


def read_config_json(checkpoint_dir: str | Path, architecture: str, error: type[Exception]) -> dict:
    """The checkpoint directory's config.json as a dict; `error` (the model's CheckpointError)
    for a file that is not a JSON object, FileNotFoundError for a missing one."""
    path = Path(checkpoint_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (expected an upstream {architecture} checkpoint directory)")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise error(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{path} is not a JSON object")
    return data


def weight_files(checkpoint_dir: str | Path, error: type[Exception]) -> list[Path]:
    """The weight files, safetensors preferred; a sharded checkpoint's shards in index order."""
    directory = Path(checkpoint_dir)
    for index_name, single in ((SAFETENSORS_INDEX, SAFETENSORS_FILE), (BIN_INDEX, BIN_FILE)):
        if (directory / single).is_file():
            return [directory / single]
        index = directory / index_name
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text())["weight_map"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise error(f"{index} is not a valid shard index (needs a 'weight_map')") from exc
            shards = list(dict.fromkeys(weight_map.values()))
            missing = [name for name in shards if not (directory / name).is_file()]
            if missing:
                raise error(f"{index} names shards that do not exist: {', '.join(missing)}")
            return [directory / name for name in shards]
    raise FileNotFoundError(f"no weights in {directory}: expected {SAFETENSORS_FILE}, {BIN_FILE} "
                            f"or a sharded checkpoint with {SAFETENSORS_INDEX} / {BIN_INDEX}")


def _read_file(path: Path, error: type[Exception]) -> dict:
    import torch  # loaders only: serving paths never read checkpoints

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path), device="cpu")
        # weights_only: a .bin is a pickle; never run code from it
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - corrupt or foreign files, reported as the checkpoint's fault
        raise error(f"{path} could not be read as weights: {exc}") from exc
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]  # training checkpoints wrap the weights
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise error(f"{path} does not hold a state dict of tensors")
    return state


def read_state_dict(checkpoint_dir: str | Path, error: type[Exception]) -> dict:
    """All tensors of the checkpoint under their upstream names (shards merged), torch tensors."""
    state: dict = {}
    for path in weight_files(checkpoint_dir, error):
        part = _read_file(path, error)
        clash = sorted(set(part) & set(state))
        if clash:
            raise error(f"tensors stored in more than one shard: {', '.join(clash[:10])}")
        state.update(part)
    return state


@dataclass(frozen=True)
class CheckReport:
    architecture: str          # the model the checkpoint is checked against, e.g. "TokenFD"
    missing: list[str]
    unexpected: list[str]
    mis_shaped: list[str]      # "name: checkpoint (a, b), expected (c, d)"
    ignored: list[str]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mis_shaped)

    def message(self, source: str) -> str:
        lines = [f"{source} does not match the {self.architecture} architecture of its config.json:"]
        for title, names in (("missing", self.missing), ("unexpected", self.unexpected),
                             ("mis-shaped", self.mis_shaped)):
            if names:
                lines.append(f"  {len(names)} {title} tensor(s):")
                lines += [f"    {name}" for name in names]
        return "\n".join(lines)
