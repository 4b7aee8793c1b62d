"""What every benchmark's command line shares: --repeats (a median and its range need at least
MIN_REPEATS), --quick (a smoke run, never written into the docs) and the flag that writes the docs, and
the line that says where and when a table was measured."""
from __future__ import annotations

import argparse
import os
import platform
import time

MIN_REPEATS = 3


def bench_parser(doc: str, *, repeats_help: str = "times the whole set runs", quick: str | None = None,
                 docs_flag: str = "--update-docs") -> argparse.ArgumentParser:
    """A parser described by `doc`'s first paragraph, with --repeats, `docs_flag` and, when `quick`
    (its help) is given, --quick."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=MIN_REPEATS, help=f"{repeats_help} (k >= {MIN_REPEATS})")
    if quick is not None:
        parser.add_argument("--quick", action="store_true", help=f"smoke run: {quick}; never written into the docs")
    parser.add_argument(docs_flag, action="store_true", help="write the results into docs/benchmarks.md")
    return parser


def parse_checked(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed arguments; exits with the parser's usage when the repeats are too few or a quick run
    would be written into the docs."""
    args = parser.parse_args(argv)
    if args.repeats < MIN_REPEATS:
        parser.error(f"--repeats must be at least {MIN_REPEATS} (a median with its range)")
    writes_docs = getattr(args, "update_docs", False) or getattr(args, "write_docs", False)
    if getattr(args, "quick", False) and writes_docs:
        parser.error("--quick results are not written into the docs")
    return args


def measured_on() -> str:
    """'Measured 2026-12-05 on x86_64, 2 cores, Python 3.11.9': the date, machine and interpreter."""
    return (f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")
