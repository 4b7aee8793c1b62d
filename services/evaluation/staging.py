"""A shard's output written all at once or not at all: one JSONL and its files, staged.

Everything is first written under a staging directory inside the output directory and moved into
place by `commit()`, the files first and the JSONL last, so a failed or killed run leaves no
partial JSONL and no stray files; the staging directory a SIGKILLed run could not remove is
removed by the next run of the same shard. Used by the STEM data engine (synth/writer.py) and the
TokenIT page engine (services/datasets/tokenit/writer.py).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .shards import Shard


def jsonl_name(stem: str, shard: Shard) -> str:
    """`<stem>.jsonl` for a whole corpus, `<stem>.shard-00002-of-00008.jsonl` for shard 2 of 8."""
    if shard.count == 1:
        return f"{stem}.jsonl"
    return f"{stem}.shard-{shard.index:05d}-of-{shard.count:05d}.jsonl"


def dumps(line: dict) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"


class StagedJsonl:
    """`directory/<stem>[.shard-...].jsonl` and files in sub-folders of `directory`, staged until `commit()`."""

    def __init__(self, directory: Path, stem: str, shard: Shard, folders: tuple[str, ...]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = jsonl_name(stem, shard)
        prefix = f".staging-{self.name}-"
        # What a killed run of this same shard left (SIGKILL gives no chance to clean up).
        for stale in self.directory.glob(f"{prefix}*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=self.directory))
        self.folders = folders
        for folder in folders:
            (self.staging / folder).mkdir()
        self.jsonl = open(self.staging / self.name, "w", encoding="utf-8")
        self.files: list[str] = []   # relative to the directory: "<folder>/<name>"

    def file(self, folder: str, name: str) -> Path:
        """Where to write `folder/name` now; it is moved into place by `commit()`."""
        relative = f"{folder}/{name}"
        self.files.append(relative)
        return self.staging / relative

    def write_line(self, line: dict) -> None:
        self.jsonl.write(dumps(line))

    def commit(self) -> Path:
        self.jsonl.close()
        for folder in self.folders:
            (self.directory / folder).mkdir(exist_ok=True)
        moved = []
        try:
            for relative in self.files:
                os.replace(self.staging / relative, self.directory / relative)
                moved.append(relative)
            os.replace(self.staging / self.name, self.directory / self.name)
        except BaseException:
            for relative in moved:
                (self.directory / relative).unlink(missing_ok=True)
            raise
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        return self.directory / self.name

    def discard(self) -> None:
        self.jsonl.close()
        shutil.rmtree(self.staging, ignore_errors=True)
