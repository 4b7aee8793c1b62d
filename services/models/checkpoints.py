"""What every strict checkpoint loader (services/models/*/checkpoint.py) shares: reading an
upstream directory's config.json, and one report shape, so each lists missing, unexpected and
mis-shaped tensors the same way."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "config.json"


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
