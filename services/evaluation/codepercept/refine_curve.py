"""`python -m services.evaluation.codepercept refine-curve`: what the refinement (services/codeperception/
refinement.py) adds to retrieval's answer, by its budget of renders, on the evaluation's two sets (the same
held-out engine seed and count as `run`, and the independent figures).

    python -m services.evaluation.codepercept refine-curve --index FILE [--out DIR]
        [--renders N ...] [--engine-seed S] [--engine-count N] [--limit N]

Each budget is one percept-eval run from nothing with the `retrieval` backend (its k nearest programs
verified, PERCEPT_CODEPERCEPTION_RETRIEVAL_K) and `--refine-renders N`: the best of them refined as the
service refines it. Budget 0 is retrieval alone, the baseline of the same run. No model is served: in the
`verified` default a model candidate wins over the retrieved ones on about 1 figure in 90
(docs/codepercept-mini.md), so this is the default's answer on nearly every figure, measured without its
model's decode time. The table is printed and `refine_curve.json` written in --out.
"""
from __future__ import annotations

from pathlib import Path

from .runs import Config, environment, limited, run_one, write_sets

BUDGETS = (0, 16, 32, 64)
DEFAULT_OUT = Path("artifacts/eval-codepercept-refine-curve")


def refine_curve(args) -> dict:
    from services.evaluation.local_sandbox import LocalSandbox

    rows = []
    with LocalSandbox(args.out / "logs", workers=2, queue_size=8) as sandbox:
        sets = write_sets(args.out, sandbox, engine_seed=args.engine_seed, engine_count=args.engine_count,
                          dpi=args.dpi)
        with environment(PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=str(args.index.resolve()),
                         PERCEPT_MAX_REFINE_RENDERS=str(max(args.renders))):
            for set_name, directory in sets.items():
                for renders in args.renders:
                    config = Config(f"retrieval, refined with {renders} renders", "retrieval",
                                    ("--refine-renders", str(renders)))
                    result = run_one(config, limited(directory, args.limit), directory / "images",
                                     args.out / "runs" / f"{set_name}-r{renders}", sandbox, args.dpi)
                    rows.append({"set": set_name, "renders": renders, "figures": result["figures"],
                                 "exec_rate": result["exec_rate"], "fidelity": result["fidelity"],
                                 "seconds_per_figure": result["seconds_per_figure"]})
    return {"engine_seed": args.engine_seed, "engine_count": args.engine_count, "dpi": args.dpi,
            "limit": args.limit, "index": args.index.name, "rows": rows}


def table(summary: dict) -> str:
    lines = [f"Retrieval's answer refined, by renders spent (engine: {summary['engine_count']} held-out figures of "
             f"seed {summary['engine_seed']}; {summary['dpi']} dpi; fidelity, a failed render counting 0; seconds "
             "per figure, 2 figures at a time, one run).", "",
             "| set | renders | figures | exec rate | fidelity | gain | seconds per figure |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    base = {row["set"]: row["fidelity"] for row in summary["rows"] if row["renders"] == 0}
    for row in summary["rows"]:
        gain = f"{row['fidelity'] - base[row['set']]:+.3f}" if row["set"] in base else ""
        lines.append(f"| {row['set']} | {row['renders']} | {row['figures']} | {row['exec_rate']:.2f} | "
                     f"{row['fidelity']:.3f} | {gain} | {row['seconds_per_figure']:.2f} |")
    return "\n".join(lines)


__all__ = ["BUDGETS", "DEFAULT_OUT", "refine_curve", "table"]
