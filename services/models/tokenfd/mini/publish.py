"""`make publish-tokenfd`: copy the trained TokenFD-mini checkpoint to where `make models` serves it
from by default (models/tokenfd-mini, committed with the repository), after checking it.

    python -m services.models.tokenfd.mini.publish SOURCE DEST

The checks: the checkpoint's files are all there (config.json, model.safetensors, tokenizer.model and
the record, tokenfd_mini.json); the record names a calibrated threshold (what the served model's
locate default becomes); the strict loader (services/models/tokenfd/checkpoint.py) reads the weights
and the tokenizer fits the embedding table; and the files together are at most 25 MB (the issue's
bound on committed weights). Only these files are copied, staged beside DEST and moved into place.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from services.models.checkpoints import CONFIG_FILE
from services.models.common.publish import checked_size, copy_files
from services.models.tokenfd.checkpoint import (
    RECORD_FILE,
    SAFETENSORS_FILE,
    TOKENIZER_FILE,
    CheckpointError,
    load_config,
    read_record,
)

MAX_BYTES = 25_000_000   # 25 MB: the committed weights' bound
FILES = (CONFIG_FILE, SAFETENSORS_FILE, TOKENIZER_FILE, RECORD_FILE)


@dataclass(frozen=True)
class Published:
    directory: Path
    name: str
    threshold: float
    size_bytes: int


def check(source: str | Path, *, max_bytes: int = MAX_BYTES) -> tuple[str, float, int]:
    """(name, recorded threshold, bytes) of a publishable checkpoint; CheckpointError (or
    FileNotFoundError) saying what is wrong otherwise."""
    source = Path(source)
    size = checked_size(source, FILES, max_bytes, CheckpointError, what="TokenFD-mini", made_by="make train-tokenfd")
    threshold = read_record(source).threshold
    if threshold is None:
        raise CheckpointError(f"{source}/{RECORD_FILE} records no threshold: the served model's locate default "
                              f"would fall back to upstream's, not the one calibrated for this model")
    from services.models.tokenfd.checkpoint import load_model
    from services.models.tokenfd.tokenizer import QueryTokenizer

    model, config = load_model(source)   # the strict loader: every tensor's name and shape
    del model
    pieces = QueryTokenizer.from_file(source / TOKENIZER_FILE).vocab_size
    if pieces > config.vocab_size:
        raise CheckpointError(f"{source}/{TOKENIZER_FILE} has {pieces} pieces but the embedding table only "
                              f"{config.vocab_size} rows")
    return load_config(source).name, threshold, size


def publish(source: str | Path, dest: str | Path, *, max_bytes: int = MAX_BYTES) -> Published:
    """Check `source`, then replace `dest` with a copy of its checkpoint files."""
    source, dest = Path(source), Path(dest)
    _, threshold, size = check(source, max_bytes=max_bytes)
    copy_files(source, dest, FILES)
    return Published(dest, load_config(dest).name, threshold, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.models.tokenfd.mini.publish", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the trained checkpoint (make train-tokenfd's <out>/checkpoint)")
    parser.add_argument("dest", type=Path, help="where make models serves it from (models/tokenfd-mini)")
    args = parser.parse_args(argv)
    try:
        done = publish(args.source, args.dest)
    except (FileNotFoundError, CheckpointError) as exc:
        print(f"publish-tokenfd: {exc}", file=sys.stderr)
        return 2
    print(f"published {done.name} ({done.size_bytes / 1e6:.1f} MB, threshold {done.threshold:g}) to {done.directory}; "
          f"`make models` serves it from there (commit the directory to make it the default)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
