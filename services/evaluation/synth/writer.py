"""Writing a corpus: triplets (JSONL + images) and a STEM2Code-Eval-format split.

Layout of an output directory (the triplets' `--out` or the split's `--split`):

    DIR/<stem>.jsonl                      the whole corpus (no --shard)
    DIR/<stem>.shard-00002-of-00008.jsonl shard 2 of 8; `merge()` combines them into <stem>.jsonl
    DIR/images/synth-0000012-circuit.png  one PNG per sample, the same name in every shard

with <stem> `triplets` (one line per sample: index, family, seed, image, code, caption) or
`data` (services/codeperception/dataset.py's `record()`, the sample id being the line index).
Lines are in corpus order. Everything is first written under a staging directory inside
DIR and moved into place only once the last sample rendered, the JSONL last, so a failed
or killed run leaves no partial JSONL and no stray images; the staging directory a SIGKILLed
run could not remove is removed by the next run of the same shard.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from services.codeperception.dataset import record
from services.codeperception.prompt import DEFAULT_PROMPT
from services.evaluation.shards import Shard, ShardError, check_partition
from services.evaluation.staging import StagedJsonl

from .render import Triplet

TRIPLETS = "triplets"
SPLIT = "data"
IMAGES = "images"
SHARD_FILE = re.compile(r"^(?P<stem>\w+)\.shard-(?P<index>\d+)-of-(?P<count>\d+)\.jsonl$")


def image_name(triplet: Triplet) -> str:
    return f"{triplet.program.name}.png"


def triplet_line(triplet: Triplet) -> dict:
    program = triplet.program
    return {"index": program.index, "family": program.family, "seed": program.seed,
            "image": f"{IMAGES}/{image_name(triplet)}", "code": program.code, "caption": triplet.caption}


def read_triplets(directory: str | Path) -> list[dict]:
    """The lines of a whole corpus's DIR/triplets.jsonl (triplet_line's fields, image relative to DIR), in
    corpus order; FileNotFoundError when it is not there or holds none."""
    path = Path(directory) / f"{TRIPLETS}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (a corpus's triplets: percept-eval synth --out, "
                                f"make data-codepercept)")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise FileNotFoundError(f"{path} holds no samples")
    return lines


def split_line(triplet: Triplet, instruction: str = DEFAULT_PROMPT) -> dict:
    return record(image_name(triplet), triplet.program.code, instruction)


class StagedOutput:
    """One JSONL and its images, staged inside `directory` until `commit()` (staging.StagedJsonl)."""

    def __init__(self, directory: Path, stem: str, shard: Shard, line) -> None:
        self.staged = StagedJsonl(directory, stem, shard, (IMAGES,))
        self.line = line

    def add(self, triplet: Triplet) -> None:
        self.staged.file(IMAGES, image_name(triplet)).write_bytes(triplet.image)
        self.staged.write_line(self.line(triplet))

    def commit(self) -> Path:
        return self.staged.commit()

    def discard(self) -> None:
        self.staged.discard()


def shard_files(directory: Path, stem: str) -> list[tuple[Shard, Path]]:
    found = []
    for path in sorted(Path(directory).glob(f"{stem}.shard-*.jsonl")):
        match = SHARD_FILE.match(path.name)
        if match and match["stem"] == stem:
            found.append((Shard(int(match["index"]), int(match["count"])), path))
    return found


def _image_of(stem: str, line: str) -> str:
    parsed = json.loads(line)
    if stem == TRIPLETS:
        return parsed["image"].removeprefix(f"{IMAGES}/")
    return parsed["messages"][1]["content"][0]["image"]


def merge(directory: Path, stem: str, sources: list[Path] | None = None) -> Path:
    """Combine shard files of `stem` into `directory/<stem>.jsonl`, what one unsharded run writes,
    byte for byte. The shard files are looked for in `sources` (default: `directory` itself, where
    shards writing into one directory leave them); images of shards in other directories are
    copied into `directory/images`. Shard i of n holds samples i, i+n, i+2n, ... in order, so the
    corpus is their lines taken in turn. Raises ShardError on missing, overlapping, mixed or
    uneven shards, and writes nothing then."""
    directory = Path(directory)
    found = [entry for source in (sources or [directory]) for entry in shard_files(source, stem)]
    if not found:
        raise ShardError(f"no {stem}.shard-*.jsonl files in {', '.join(map(str, sources or [directory]))}")
    check_partition([shard for shard, _ in found])
    ordered = [path for _, path in sorted(found, key=lambda entry: entry[0].index)]
    lines = [path.read_text(encoding="utf-8").splitlines(keepends=True) for path in ordered]
    total = sum(len(shard_lines) for shard_lines in lines)
    count = len(ordered)
    for index, shard_lines in enumerate(lines):
        expected = len(range(index, total, count))
        if len(shard_lines) != expected:
            raise ShardError(f"{ordered[index]} holds {len(shard_lines)} samples, but shard {index}/{count} "
                             f"of a {total}-sample corpus holds {expected} (an unfinished or foreign shard)")
    merged = [lines[i % count][i // count] for i in range(total)]
    if stem == TRIPLETS:  # triplets carry their index: each must land on its own line
        for position, line in enumerate(merged):
            if json.loads(line).get("index") != position:
                raise ShardError(f"line {position} of the merged {stem} holds sample "
                                 f"{json.loads(line).get('index')}: shards from different corpora or runs")
    images = directory / IMAGES
    images.mkdir(parents=True, exist_ok=True)
    for path, shard_lines in zip(ordered, lines, strict=True):
        if path.parent.resolve() != directory.resolve():
            for line in shard_lines:
                name = _image_of(stem, line)
                shutil.copyfile(path.parent / IMAGES / name, images / name)
    target = directory / f"{stem}.jsonl"
    partial = target.with_name(f".{target.name}.merging")
    partial.write_text("".join(merged), encoding="utf-8")
    os.replace(partial, target)
    return target
