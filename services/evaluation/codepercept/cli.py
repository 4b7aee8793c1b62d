"""`python -m services.evaluation.codepercept`: image-to-code by retrieval, by CodePercept-mini and by both,
through percept-eval (`make eval-codepercept`).

    python -m services.evaluation.codepercept run --checkpoint DIR --index FILE [--out DIR]
        [--engine-count N] [--engine-seed S] [--limit N] [--dpi D] [--write-docs] [--plumbing-only]
    python -m services.evaluation.codepercept report [--summary FILE] [--write-docs]
    python -m services.evaluation.codepercept tune --checkpoint DIR --index FILE [--temperatures T ...]
    python -m services.evaluation.codepercept retrieval-curve --index FILE [--per-family N ...] [--k K ...]
    python -m services.evaluation.codepercept refine-curve --index FILE [--renders N ...] [--limit N]

`run` writes two sets in STEM2Code's layout: (engine) held-out programs of the data engine (a corpus seed
the model and the index were not built from) and (independent) the figures of
tests/evaluation/independent_figures, written apart from the engine. It serves the checkpoint as the
`codepercept` model family (a real tritonserver; services/models/codepercept/family.py) and starts a
sandbox server, then runs `percept-eval run` over each set with each configuration (runs.py, CONFIGS):
retrieval alone (the index's k nearest programs, the best verified), the model alone (greedy, and its
best of 4: the greedy program and 3 samples, as the service's best of N) and the two together (the
`verified` backend). Every candidate is rendered and scored
against the input and the best kept, as the code-perception service does. The figures per set and
configuration: exec rate, fidelity (the mean aggregate, a failed render counting 0) and seconds per figure
(the run's wall time over its figures, CONCURRENCY figures at a time), also per family; `summary.json` in
--out, the Markdown printed; --write-docs replaces the report's section of docs/benchmarks.md and its plot.
`tune` chooses the sampling temperature on another seed of the engine (tune.py); `retrieval-curve` measures
retrieval's fidelity by the index's density and the programs it verifies (retrieval_curve.py);
`refine-curve` what the refinement adds to retrieval's answer by its budget of renders (refine_curve.py).

A checkpoint trained for a few steps, or --plumbing-only, is reported as "plumbing only".
Exit status: 0 done, 1 a run failed, 2 bad invocation.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import shlex
import sys
from pathlib import Path

from services.evaluation.arguments import fail, positive_int

from .runs import CONCURRENCY, CONFIGS, DPI, ENGINE_COUNT, ENGINE_SEED, limited, run_one, serving, write_sets

PROGRAM = "python -m services.evaluation.codepercept"
_fail = functools.partial(fail, PROGRAM)
DEFAULT_OUT = Path("artifacts/eval-codepercept")
DEFAULT_DOC = Path("docs/benchmarks.md")
DEFAULT_PLOT = Path("docs/img/eval_codepercept.png")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate the configurations on both sets")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT)
    run.add_argument("--engine-count", type=positive_int, default=ENGINE_COUNT)
    run.add_argument("--engine-seed", type=int, default=ENGINE_SEED)
    run.add_argument("--limit", type=positive_int, default=None, help="the first N figures of each set")
    run.add_argument("--plumbing-only", action="store_true", help="mark the report as plumbing figures")
    tune = sub.add_parser("tune", help="the model's best of N at several temperatures, on a tuning seed")
    from .tune import TEMPERATURES, TUNE_COUNT, TUNE_SEED

    for command in (run, tune):
        command.add_argument("--checkpoint", type=Path, required=True,
                             help="CodePercept-mini checkpoint (TokenVL layout)")
        command.add_argument("--index", type=Path, required=True, help="the retrieval index (make retrieval-index)")
        command.add_argument("--dpi", type=positive_int, default=DPI)
    tune.add_argument("--out", type=Path, default=Path("artifacts/eval-codepercept-tune"))
    tune.add_argument("--engine-seed", type=int, default=TUNE_SEED)
    tune.add_argument("--engine-count", type=positive_int, default=TUNE_COUNT)
    tune.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES))
    tune.add_argument("--candidates", type=positive_int, default=4)
    tune.add_argument("--code-guard", action="store_true",
                      help="serve it under the code guard (the names the index's programs read unbound)")
    from .retrieval_curve import DEFAULT_OUT as CURVE_OUT
    from .retrieval_curve import DENSITIES, KS

    curve = sub.add_parser("retrieval-curve", help="retrieval's fidelity by index density and programs verified")
    curve.add_argument("--index", type=Path, required=True, help="the retrieval index (make retrieval-index)")
    curve.add_argument("--out", type=Path, default=CURVE_OUT)
    curve.add_argument("--per-family", type=positive_int, nargs="+", default=list(DENSITIES))
    curve.add_argument("--k", type=positive_int, nargs="+", default=list(KS))
    curve.add_argument("--engine-seed", type=int, default=ENGINE_SEED)
    curve.add_argument("--engine-count", type=positive_int, default=ENGINE_COUNT)
    curve.add_argument("--dpi", type=positive_int, default=DPI)
    from .refine_curve import BUDGETS
    from .refine_curve import DEFAULT_OUT as REFINE_OUT

    refine = sub.add_parser("refine-curve", help="the refinement's gain over retrieval by its budget of renders")
    refine.add_argument("--index", type=Path, required=True, help="the retrieval index (make retrieval-index)")
    refine.add_argument("--out", type=Path, default=REFINE_OUT)
    refine.add_argument("--renders", type=int, nargs="+", default=list(BUDGETS))
    refine.add_argument("--engine-seed", type=int, default=ENGINE_SEED)
    refine.add_argument("--engine-count", type=positive_int, default=ENGINE_COUNT)
    refine.add_argument("--dpi", type=positive_int, default=DPI)
    refine.add_argument("--limit", type=positive_int, default=None, help="the first N figures of each set")
    for command in (run, sub.add_parser("report", help="the report again, from a run's summary.json")):
        command.add_argument("--write-docs", action="store_true")
        command.add_argument("--doc", type=Path, default=DEFAULT_DOC)
        command.add_argument("--plot", type=Path, default=DEFAULT_PLOT)
    sub.choices["report"].add_argument("--summary", type=Path, default=DEFAULT_OUT / "summary.json")
    return parser


def run(args, argv: list[str]) -> dict:
    with serving(args) as sandbox:
        sets = write_sets(args.out, sandbox, engine_seed=args.engine_seed, engine_count=args.engine_count,
                          dpi=args.dpi)
        results = []
        for set_name, directory in sets.items():
            data = limited(directory, args.limit)
            for number, config in enumerate(CONFIGS):
                run_dir = args.out / "runs" / f"{set_name}-{number}"
                results.append({"set": set_name, **run_one(config, data, directory / "images", run_dir,
                                                            sandbox, args.dpi)})
    return {"plumbing_only": bool(args.plumbing_only or _barely_trained(args.checkpoint)),
            "checkpoint": args.checkpoint.name, "record": _record(args.checkpoint),
            "settings": {"dpi": args.dpi, "concurrency": CONCURRENCY, "engine_seed": args.engine_seed,
                         "engine_count": args.engine_count, "limit": args.limit, "threads": os.cpu_count()},
            "command": shlex.join([*PROGRAM.split(), *argv]),   # this run's own arguments (a --limit shows)
            "machine": {"platform": platform.platform(), "python": platform.python_version()},
            "date": datetime.date.today().isoformat(), "results": results}


def _record(checkpoint: Path) -> dict:
    from services.models.codepercept.family import recorded

    return recorded(checkpoint)


def _barely_trained(checkpoint: Path) -> bool:
    """A checkpoint with no record, or one trained for fewer than 100 steps, is a plumbing fixture."""
    return int(_record(checkpoint).get("steps", 0)) < 100


def _curve(args, measure, table, name: str) -> int:
    """A curve over the retrieval index: measured, written as `name` in --out, its table printed."""
    if not args.index.is_file():
        return _fail(f"{args.index} is missing (a retrieval index)")
    try:
        summary = measure(args)
    except (RuntimeError, ValueError) as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 1
    (args.out / name).write_text(json.dumps(summary, indent=2) + "\n")
    print(table(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    from . import report

    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command in ("run", "tune"):
        for path, what in ((args.checkpoint / "config.json", "a checkpoint"), (args.index, "a retrieval index")):
            if not path.is_file():
                return _fail(f"{path} is missing ({what})")
    if args.command == "retrieval-curve":
        from .retrieval_curve import retrieval_curve
        from .retrieval_curve import table as curve_table

        return _curve(args, retrieval_curve, curve_table, "retrieval_curve.json")
    if args.command == "refine-curve":
        from .refine_curve import refine_curve
        from .refine_curve import table as refine_table

        if min(args.renders) < 0:
            return _fail("--renders must be 0 or more")
        return _curve(args, refine_curve, refine_table, "refine_curve.json")
    if args.command == "tune":
        from .tune import table, tune

        try:
            summary = tune(args)
        except RuntimeError as exc:
            print(f"{PROGRAM}: {exc}", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "tune.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(table(summary))
        return 0
    if args.command == "report":
        if not args.summary.is_file():
            return _fail(f"no summary at {args.summary}")
        summary = json.loads(args.summary.read_text())
    else:
        try:
            summary = run(args, argv)
        except RuntimeError as exc:
            print(f"{PROGRAM}: {exc}", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    body = report.section(summary, report.plot_link(args.doc, args.plot))
    print(body)
    if args.write_docs:
        report.write_section(args.doc, body, args.plot, summary)
    return 0
