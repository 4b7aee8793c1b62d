"""What a strict checkpoint loader found wrong: one report shape for every model's loader
(services/models/*/checkpoint.py), so each lists missing, unexpected and mis-shaped tensors
the same way."""
from __future__ import annotations

from dataclasses import dataclass


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
