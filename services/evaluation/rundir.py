"""Reading a finished (or partial) run directory back: its manifest, records and summary."""
from __future__ import annotations

import json
from pathlib import Path

from .records import RECORDS, RunDirError, read_manifest, read_records, write_atomically
from .summary import summarize

SUMMARY = "summary.json"


def load_run(out: Path) -> tuple[dict, list[dict]]:
    manifest = read_manifest(out)
    if manifest is None:
        raise RunDirError(f"{out} is not a percept-eval run directory (no manifest.json)")
    return manifest, read_records(out / RECORDS)


def write_summary(out: Path) -> dict:
    manifest, records = load_run(out)
    summary = summarize(records, manifest)
    write_atomically(out / SUMMARY, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
    return summary
