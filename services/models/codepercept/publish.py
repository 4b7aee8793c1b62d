"""`make publish-codepercept`: copy the trained CodePercept-mini checkpoint, and the retrieval index the
`verified` backend pairs it with when one is given, to where `make models` and `make up` serve them from
(models/codepercept-mini, committed with the repository), after checking them.

    python -m services.models.codepercept.publish SOURCE DEST [--index FILE]

The checks: the checkpoint's files are all there (checkpoint.FILES); its record says how long it was
trained; TokenVL's strict loader reads the weights and the tokenizer has TokenVL's special tokens and fits
the embedding table; the index, if given, loads; and everything published is at most 40 MB together
(the bound on committed weights and index). Only these files are copied.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from services.models.codepercept.checkpoint import FILES, RECORD_FILE
from services.models.codepercept.config import INDEX_FILE
from services.models.codepercept.family import recorded
from services.models.common.publish import checked_size, copy_files
from services.models.tokenvl.config import CheckpointError

MAX_BYTES = 40_000_000           # 40 MB: the bound on the committed weights and index together


@dataclass(frozen=True)
class Published:
    directory: Path
    name: str
    steps: int
    size_bytes: int
    index_programs: int | None


def check(source: str | Path, index: str | Path | None = None, *, max_bytes: int = MAX_BYTES) -> Published:
    """What publishing `source` (and `index`) would give; CheckpointError, FileNotFoundError or the
    index's IndexUnusable saying what is wrong otherwise."""
    from services.models.tokenvl.checkpoint import load_model
    from services.models.tokenvl.tokens import TOKENIZER_FILE, Tokenizer

    source = Path(source)
    size = checked_size(source, FILES, max_bytes, CheckpointError, what="CodePercept-mini",
                        made_by="make train-codepercept")
    record = recorded(source)
    if "steps" not in record:
        raise CheckpointError(f"{source}/{RECORD_FILE} does not say how long the model was trained (steps)")
    model, config = load_model(source)   # the strict loader: every tensor's name and shape
    del model
    pieces = Tokenizer.from_file(source / TOKENIZER_FILE).vocab_size   # raises without the special tokens
    if pieces > config.llm.vocab_size:
        raise CheckpointError(f"{source}/{TOKENIZER_FILE} has {pieces} tokens but the embedding table only "
                              f"{config.llm.vocab_size} rows")
    programs = None
    if index is not None:
        from services.codeperception.retrieval.index import RetrievalIndex

        programs = RetrievalIndex.load(Path(index)).size
        size += Path(index).stat().st_size
        if size > max_bytes:
            raise CheckpointError(f"the checkpoint and the index hold {size / 1e6:.1f} MB together, over the "
                                  f"{max_bytes / 1e6:.0f} MB they may take")
    return Published(Path(source), record.get("name", config.name), int(record["steps"]), size, programs)


def publish(source: str | Path, dest: str | Path, index: str | Path | None = None, *,
            max_bytes: int = MAX_BYTES) -> Published:
    """Check, then replace `dest` with the checkpoint's files (and the index as INDEX_FILE)."""
    source, dest = Path(source), Path(dest)
    checked = check(source, index, max_bytes=max_bytes)
    copy_files(source, dest, FILES)
    if index is not None:
        shutil.copyfile(index, dest / INDEX_FILE)
    return Published(dest, checked.name, checked.steps, checked.size_bytes, checked.index_programs)


def main(argv: list[str] | None = None) -> int:
    from services.codeperception.retrieval.index import IndexUnusable

    parser = argparse.ArgumentParser(prog="python -m services.models.codepercept.publish", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the trained checkpoint (make train-codepercept's <out>/checkpoint)")
    parser.add_argument("dest", type=Path, help="where make models serves it from (models/codepercept-mini)")
    parser.add_argument("--index", type=Path, default=None, help="the retrieval index to publish beside it "
                                                                 "(make retrieval-index's)")
    args = parser.parse_args(argv)
    try:
        done = publish(args.source, args.dest, args.index)
    except (FileNotFoundError, CheckpointError, IndexUnusable, ValueError) as exc:
        print(f"publish-codepercept: {exc}", file=sys.stderr)
        return 2
    index = f", with a retrieval index of {done.index_programs} programs" if done.index_programs else ""
    print(f"published {done.name} ({done.steps} steps{index}; {done.size_bytes / 1e6:.1f} MB) to {done.directory}; "
          f"`make models` serves it from there (commit the directory to make it the default)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
