"""`percept-eval merge`: shard run directories -> one run directory, as if run unsharded.

Refuses, naming the shards, when the shards are not exactly 0..n-1 of one n (overlapping
or missing ones), come from different runs (split, backend, protocol or judge differ), or
a shard is incomplete (it would silently lower the exec rate).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .records import RENDERS, RecordStore, RunDirError, write_manifest
from .rundir import load_run
from .shards import Shard, ShardError, check_partition

# Manifest keys that must agree between shards (the split's total and the shard differ by design).
SAME = ("schema", "backend", "model", "protocol", "judge", "images_dir")


class MergeError(ValueError):
    """The shard directories do not form one complete run."""


def merge(shard_dirs: list[Path], out: Path) -> dict:
    loaded = []
    for directory in shard_dirs:
        try:
            manifest, records = load_run(directory)
        except RunDirError as exc:
            raise MergeError(str(exc)) from None
        loaded.append((directory, manifest, records))
    try:
        shards = [Shard.parse(manifest["shard"]) for _, manifest, _ in loaded]
        check_partition(shards)
    except ShardError as exc:
        raise MergeError(str(exc)) from None
    first = loaded[0][1]
    for directory, manifest, records in loaded:
        differing = [key for key in SAME if manifest.get(key) != first.get(key)]
        if manifest["split"]["sha256"] != first["split"]["sha256"]:
            differing.append("split")
        if differing:
            raise MergeError(f"{directory} is from another run than {loaded[0][0]} (differs in: "
                             f"{', '.join(differing)})")
        if len(records) != manifest["split"]["total"]:
            raise MergeError(f"{directory} (shard {manifest['shard']}) is incomplete: {len(records)} of "
                             f"{manifest['split']['total']} samples recorded; resume it first")
    if out.exists() and any(out.iterdir()):
        raise MergeError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    merged = {key: value for key, value in first.items()}
    merged["split"] = {**first["split"], "total": sum(manifest["split"]["total"] for _, manifest, _ in loaded)}
    merged["shard"] = "0/1"
    merged["merged_from"] = [manifest["shard"] for _, manifest, _ in sorted(loaded, key=lambda x: x[1]["shard"])]
    write_manifest(out, merged)
    store = RecordStore(out)
    try:
        for directory, _, records in loaded:
            for record in sorted(records, key=lambda record: record["index"]):
                if record.get("render"):
                    shutil.copyfile(directory / record["render"], out / RENDERS / Path(record["render"]).name)
                store.append(record)
    finally:
        store.close()
    return merged
