"""A run's directory: its manifest, one record per sample appended atomically, the renders.

    OUT/manifest.json     what was run (split, shard, backend, protocol settings)
    OUT/records.jsonl     one JSON line per finished sample: the commit point of that sample
    OUT/renders/N.png     sample N's first rendered figure (written before its record)

A record is one `write()` of one whole line to a file opened O_APPEND, then fsync'd. A
SIGKILL can at worst leave a torn last line; opening the store cuts it off, so that sample
counts as not done and is run again. A sample whose record is complete is never run again:
every sample ends up exactly once.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, TypeVar

MANIFEST = "manifest.json"
RECORDS = "records.jsonl"
RENDERS = "renders"


S = TypeVar("S")   # a sample: anything with an `index`


class RunDirError(ValueError):
    """The output directory holds a different run, or is not a run at all."""


def write_atomically(path: Path, data: bytes) -> None:
    """The file appears whole or not at all (temporary file, fsync, rename)."""
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_records(path: Path) -> list[dict]:
    """Every complete record of a records file (a torn last line is not one)."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    records = []
    for number, line in enumerate(complete.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise RunDirError(f"{path}:{number}: not a record ({exc})") from None
    return records


class RecordStore:
    """The records of one run directory, opened for appending."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.path = out_dir / RECORDS
        self.renders = out_dir / RENDERS
        self.renders.mkdir(parents=True, exist_ok=True)
        self._cut_torn_tail()
        self.records: dict[int, dict] = {}
        for record in read_records(self.path):
            index = int(record["index"])
            if index in self.records:
                raise RunDirError(f"{self.path}: sample {index} is recorded twice")
            self.records[index] = record
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _cut_torn_tail(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with open(self.path, "r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())

    def done(self, index: int) -> bool:
        return index in self.records

    def pending(self, samples: Iterable[S]) -> list[S]:
        """The samples without a record, in their order. Each index is looked up on its own:
        records finish out of order, so a killed run can leave a gap (sample 3 pending while
        4 and 5 are recorded); the gap is run and no recorded sample is run again."""
        return [sample for sample in samples if sample.index not in self.records]

    def render_path(self, index: int) -> Path:
        return self.renders / f"{index}.png"

    def save_render(self, index: int, png: bytes) -> str:
        path = self.render_path(index)
        write_atomically(path, png)
        return f"{RENDERS}/{path.name}"

    def append(self, record: dict) -> None:
        index = int(record["index"])
        if index in self.records:
            raise RunDirError(f"sample {index} is already recorded")
        line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        written = os.write(self._fd, line)
        if written != len(line):  # a regular file takes the whole line; anything else is a fault
            raise OSError(f"short write to {self.path} ({written} of {len(line)} bytes)")
        os.fsync(self._fd)
        self.records[index] = record

    def close(self) -> None:
        os.close(self._fd)


def read_manifest(out_dir: Path) -> dict | None:
    path = out_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunDirError(f"{path} is not JSON ({exc})") from None


def write_manifest(out_dir: Path, manifest: dict) -> None:
    write_atomically(out_dir / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
