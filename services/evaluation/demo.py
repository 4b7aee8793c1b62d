"""`make eval-demo`: the whole loop on a fresh checkout, nothing to start by hand.

Starts a sandbox-runner server (the production `percept-sandbox serve`, as `make up` runs it,
on free local ports: local_sandbox.LocalSandbox, as `percept-eval run` does when it finds
none), writes a small benchmark-format split with the data engine, runs the harness with the
reference backend over it, prints the summary and the report's path, and stops the server.
It opens nothing.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .cli import main as percept_eval
from .local_sandbox import LocalSandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.evaluation.demo")
    parser.add_argument("--out", type=Path, default=Path("artifacts/eval-demo"))
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    split, run = args.out / "split", args.out / "run"
    # the sandbox's log is kept beside the demo's outputs
    with LocalSandbox(args.out / "logs", workers=2, queue_size=8) as target:
        if not (split / "data.jsonl").is_file():
            status = percept_eval(["synth", "--split", str(split), "--count", str(args.count),
                                   "--seed", str(args.seed), "--sandbox", target])
            if status:
                return status
        return percept_eval(["run", "--data", str(split / "data.jsonl"), "--images", str(split / "images"),
                             "--out", str(run), "--backend", "reference", "--sandbox", target])


if __name__ == "__main__":
    raise SystemExit(main())
