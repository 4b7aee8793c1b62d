"""`python -m services.evaluation.codepercept tune`: the sampling temperature of CodePercept-mini's best
of N, chosen on engine programs of a tuning seed (TUNE_SEED), never on the evaluation's held-out seed.

    python -m services.evaluation.codepercept tune --checkpoint DIR --index FILE [--out DIR]
        [--engine-seed S] [--engine-count N] [--temperatures T ...] [--candidates N] [--code-guard]

It serves the checkpoint as `run` does, runs the model greedily once and its best of N samples at each
temperature, and reports, per temperature, the exec rate and fidelity of the samples alone and of the
samples with the greedy program beside them (a figure runs when one of them runs, and keeps the better
fidelity: what a greedy candidate added to best of N would give, with one sample more). The table is
printed and `tune.json` written in --out. With --code-guard the checkpoint is served under the code guard,
with the names the index's programs (its training corpus) read unbound, as the recipe records them
(services/models/codepercept/guard_names.py); a checkpoint whose record carries them already (the committed
model's does) is served under it anyway, and the summary says which (`code_guard`).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .runs import CONFIGS, SAMPLING, Config, limited, run_one, serving, write_sets

TUNE_SEED = 2            # neither the training corpus (seed 0) nor the evaluation's held-out programs (seed 1)
TUNE_COUNT = 44          # 2 programs of each of the engine's 22 families
TEMPERATURES = (0.3, 0.5, 0.7)
GREEDY = next(config for config in CONFIGS if config.args == ("--temperature", "0"))


def sampled(temperature: float, candidates: int) -> Config:
    """The evaluation's sampling (runs.SAMPLING) at another temperature, every candidate a sample (the
    greedy program is measured on its own and added after: `with_greedy`)."""
    options = dict(zip(SAMPLING[::2], SAMPLING[1::2], strict=True)) | {"--temperature": f"{temperature:g}"}
    return Config(f"model, best of {candidates} at T={temperature:g}", "triton",
                  ("--candidates", str(candidates), "--no-greedy-first",
                   *(item for pair in options.items() for item in pair)))


def _by_image(run_dir: Path) -> dict[str, dict]:
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    return {record["image"]: record for record in map(json.loads, filter(str.strip, lines))}


def with_greedy(greedy: dict[str, dict], samples: dict[str, dict]) -> dict:
    """Exec rate and fidelity when the greedy program is one more candidate, figure by figure."""
    runs = [greedy[image]["status"] == "OK" or record["status"] == "OK" for image, record in samples.items()]
    best = [max(greedy[image]["fidelity"]["aggregate"], record["fidelity"]["aggregate"])
            for image, record in samples.items()]
    n = max(1, len(samples))
    return {"exec_rate": round(sum(runs) / n, 4), "fidelity": round(sum(best) / n, 4)}


def candidate_statuses(records: dict[str, dict]) -> dict[str, int]:
    """How every sample of every figure ended (OK, EXEC_ERROR, NO_CODE, REJECTED, ...), counted."""
    counts: dict[str, int] = {}
    for record in records.values():
        for candidate in record.get("candidates", []):
            counts[candidate["status"]] = counts.get(candidate["status"], 0) + 1
    return dict(sorted(counts.items()))


def with_code_guard(checkpoint: Path, index: Path, out: Path) -> Path:
    """A copy of the checkpoint whose record carries the code guard's names, read from the index's programs."""
    from services.models.codepercept.guard_names import record_guard_names

    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(checkpoint, out)
    record_guard_names(out, index)
    return out


def tune(args) -> dict:
    if args.code_guard:
        args.checkpoint = with_code_guard(args.checkpoint, args.index, args.out / "checkpoint-with-code-guard")
    with serving(args) as sandbox:
        directory = write_sets(args.out, sandbox, engine_seed=args.engine_seed, engine_count=args.engine_count,
                               dpi=args.dpi)["engine"]
        data, images = limited(directory, None), directory / "images"
        greedy = run_one(GREEDY, data, images, args.out / "runs" / "greedy", sandbox, args.dpi)
        greedy_records = _by_image(args.out / "runs" / "greedy")
        rows = []
        for temperature in args.temperatures:
            run_dir = args.out / "runs" / f"T{temperature:g}"
            result = run_one(sampled(temperature, args.candidates), data, images, run_dir, sandbox, args.dpi)
            records = _by_image(run_dir)
            rows.append({"temperature": temperature, "samples": result,
                         "with_greedy": with_greedy(greedy_records, records),
                         "candidate_statuses": candidate_statuses(records)})
    return {"engine_seed": args.engine_seed, "figures": greedy["figures"], "candidates": args.candidates,
            "code_guard": _guarded(args.checkpoint), "greedy": greedy, "temperatures": rows}


def _guarded(checkpoint: Path) -> bool:
    """Whether the served checkpoint decodes under the code guard (--code-guard gives a copy that does; the
    committed model's own record does too)."""
    from services.models.codepercept.family import code_guard_rules, recorded

    return code_guard_rules(recorded(checkpoint)) is not None


def table(summary: dict) -> str:
    n = summary["candidates"]
    guard = " under the code guard" if summary.get("code_guard") else ""
    lines = [f"Engine seed {summary['engine_seed']}, {summary['figures']} figures{guard}; greedy alone: exec "
             f"{summary['greedy']['exec_rate']:.2f}, fidelity {summary['greedy']['fidelity']:.3f}.", "",
             f"| temperature | best of {n}: exec | fidelity | s / figure | with greedy: exec | fidelity |",
             "|---:|---:|---:|---:|---:|---:|"]
    for row in summary["temperatures"]:
        samples, both = row["samples"], row["with_greedy"]
        lines.append(f"| {row['temperature']:g} | {samples['exec_rate']:.2f} | {samples['fidelity']:.3f} | "
                     f"{samples['seconds_per_figure']:.2f} | {both['exec_rate']:.2f} | {both['fidelity']:.3f} |")
    return "\n".join(lines)
