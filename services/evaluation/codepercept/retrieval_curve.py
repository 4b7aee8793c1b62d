"""`python -m services.evaluation.codepercept retrieval-curve`: how retrieval's fidelity grows with the
density of its index and with the number of programs it verifies, on the evaluation's held-out engine
figures (the same seed and count as `run`).

    python -m services.evaluation.codepercept retrieval-curve --index FILE [--out DIR]
        [--per-family N ...] [--k K ...] [--engine-seed S] [--engine-count N]

A density N is the index's first N programs of each family: the engine draws families round-robin, so
those are its corpus samples 0 .. N x families - 1, the index that
`python -m services.codeperception.retrieval.build --per-family N` would hold. A k is retrieval's best of
k: its k nearest programs, each rendered and scored against the input through percept-eval, the best
kept (the `retrieval` backend with PERCEPT_CODEPERCEPTION_RETRIEVAL_K=k).
Every (N, k) is one percept-eval run from nothing. The table is printed and `retrieval_curve.json`
written in --out.
"""
from __future__ import annotations

from pathlib import Path

from .runs import Config, environment, run_one, write_sets

DENSITIES = (25, 50, 100, 200)
KS = (1, 4, 16)
DEFAULT_OUT = Path("artifacts/eval-codepercept-retrieval-curve")


def subset(index, per_family: int, out: Path) -> Path:
    """The index's (a RetrievalIndex) first `per_family` programs of each family, written to `out`;
    ValueError past what it holds."""
    return index.first_samples(per_family * len(index.meta.families)).save(out)


def retrieval_curve(args) -> dict:
    from services.codeperception.retrieval.index import RetrievalIndex
    from services.evaluation.local_sandbox import LocalSandbox

    full, rows = RetrievalIndex.load(args.index), []
    with LocalSandbox(args.out / "logs", workers=2, queue_size=8) as sandbox:
        engine = write_sets(args.out, sandbox, engine_seed=args.engine_seed, engine_count=args.engine_count,
                            dpi=args.dpi)["engine"]
        for per_family in args.per_family:
            index = subset(full, per_family, args.out / "indexes" / f"per-family-{per_family}.npz")
            for k in args.k:
                config = Config(f"retrieval, {per_family} per family, best of {k}", "retrieval",
                                ("--candidates", str(k)))
                with environment(PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=str(index.resolve()),
                                  PERCEPT_CODEPERCEPTION_RETRIEVAL_K=str(k),
                                  PERCEPT_MAX_CANDIDATES=str(max(k, 8))):
                    result = run_one(config, engine / "data.jsonl", engine / "images",
                                     args.out / "runs" / f"n{per_family}-k{k}", sandbox, args.dpi)
                rows.append({"per_family": per_family, "k": k, "exec_rate": result["exec_rate"],
                             "fidelity": result["fidelity"], "seconds_per_figure": result["seconds_per_figure"]})
    return {"engine_seed": args.engine_seed, "figures": args.engine_count, "dpi": args.dpi,
            "index": args.index.name, "rows": rows}


def table(summary: dict) -> str:
    ks = sorted({row["k"] for row in summary["rows"]})
    lines = [f"Retrieval's fidelity on {summary['figures']} held-out engine figures (seed {summary['engine_seed']}, "
             f"{summary['dpi']} dpi), by programs per family in the index and programs verified (best of k).", "",
             "| programs per family | " + " | ".join(f"best of {k}" for k in ks) + " |",
             "|---:|" + "---:|" * len(ks)]
    by = {(row["per_family"], row["k"]): row for row in summary["rows"]}
    for per_family in sorted({row["per_family"] for row in summary["rows"]}):
        cells = [f"{by[per_family, k]['fidelity']:.3f}" if (per_family, k) in by else "" for k in ks]
        lines.append(f"| {per_family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = ["DEFAULT_OUT", "DENSITIES", "KS", "retrieval_curve", "subset", "table"]
