"""Record in a CodePercept-mini checkpoint its code guard's rules (the names a program may read unbound, the
parallel lists), so that it is served under the guard (services/models/tokenvl/triton/code_guard.py):

    python -m services.models.codepercept.guard_names CHECKPOINT [--index FILE]

The rules are read from the programs of the retrieval index (by default the checkpoint's own
retrieval-index.npz: the engine's programs of the training corpus's seed, the training corpus first); an index
of the training corpus alone (built `--from-corpus`) gives the rules the recipe records when it trains with the
guard on. Before writing them it checks that the guard accepts every one of the programs.
This is for a checkpoint trained before the recipe recorded them (the committed model's first record); it
rewrites only the record's `code_guard` entry, the one the recipe writes (`guard_entry`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.models.codepercept.checkpoint import RECORD_FILE
from services.models.codepercept.config import INDEX_FILE


def index_programs(index: Path) -> list[str]:
    from services.codeperception.retrieval.index import RetrievalIndex

    retrieval = RetrievalIndex.load(index)
    return [retrieval.program(i) for i in range(retrieval.size)]


def refused(programs: list[str], rules) -> int:
    """How many of the programs the guard with these rules (code_guard.GuardRules) would not let a model write."""
    from services.models.tokenvl.triton.code_guard import FENCE_OPEN

    return sum(not rules.guard().accepts(FENCE_OPEN + program + "\n```") for program in programs)


def guard_entry(programs: list[str]) -> dict:
    """A record's `code_guard` entry for a model trained on these programs: the names they read unbound, the
    parallel lists they keep, and how many of them the guard with those rules would refuse (0 when the corpus
    keeps to every rule)."""
    from services.models.tokenvl.triton.code_guard import learn_rules

    rules = learn_rules(programs)
    return {"free_names": list(rules.free_names), "parallel": [list(relation) for relation in rules.parallel],
            "refused_programs": refused(programs, rules)}


def record_guard_names(checkpoint: Path, index: Path) -> dict:
    """Write the guard's entry for the index's programs into the checkpoint's record (RECORD_FILE), once the
    guard is known to accept every one of them (ValueError if not); returns the entry."""
    path = Path(checkpoint) / RECORD_FILE
    record = json.loads(path.read_text())
    programs = index_programs(Path(index))
    entry = guard_entry(programs)
    if entry["refused_programs"]:
        raise ValueError(f"the code guard refuses {entry['refused_programs']} of the index's {len(programs)} "
                         "programs")
    record["code_guard"] = entry
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return entry


def main(argv: list[str] | None = None) -> int:
    from services.codeperception.retrieval.index import IndexUnusable

    parser = argparse.ArgumentParser(prog="python -m services.models.codepercept.guard_names", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a CodePercept-mini checkpoint (models/codepercept-mini)")
    parser.add_argument("--index", type=Path, default=None, help=f"the retrieval index (CHECKPOINT/{INDEX_FILE})")
    args = parser.parse_args(argv)
    try:
        entry = record_guard_names(args.checkpoint, args.index or args.checkpoint / INDEX_FILE)
    except (FileNotFoundError, json.JSONDecodeError, IndexUnusable, ValueError) as exc:
        print(f"guard_names: {exc}", file=sys.stderr)
        return 2
    print(f"{args.checkpoint / RECORD_FILE}: the code guard's {len(entry['free_names'])} free names and "
          f"{len(entry['parallel'])} parallel lists recorded; the guard accepts every program of the index")
    return 0


if __name__ == "__main__":
    sys.exit(main())
