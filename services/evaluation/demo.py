"""`make eval-demo`: the whole loop on a fresh checkout, nothing to start by hand.

Starts a sandbox-runner server (the production `percept-sandbox serve`, as `make up` runs it:
services.devstack's component, here on free local ports), writes a small benchmark-format split
with the data engine, runs the harness with the reference backend over it, prints the summary
and the report's path, and stops the server. It opens nothing.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from services.common.net import find_free_ports
from services.devstack import BIND_HOST, sandbox_component, start_once, stop_component

from .cli import main as percept_eval

START_TIMEOUT_S = 180.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.evaluation.demo")
    parser.add_argument("--out", type=Path, default=Path("artifacts/eval-demo"))
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    split, run = args.out / "split", args.out / "run"
    grpc_port, metrics_port = find_free_ports(2, BIND_HOST)
    sandbox = sandbox_component(grpc_port, metrics_port, "--workers", "2", "--queue-size", "8")
    logs = args.out / "logs"   # the sandbox's log, kept beside the demo's outputs
    logs.mkdir(parents=True, exist_ok=True)
    start_once(sandbox, logs, START_TIMEOUT_S)
    target = f"{BIND_HOST}:{grpc_port}"
    try:
        if not (split / "data.jsonl").is_file():
            status = percept_eval(["synth", "--split", str(split), "--count", str(args.count),
                                   "--seed", str(args.seed), "--sandbox", target])
            if status:
                return status
        return percept_eval(["run", "--data", str(split / "data.jsonl"), "--images", str(split / "images"),
                             "--out", str(run), "--backend", "reference", "--sandbox", target])
    finally:
        stop_component(sandbox)


if __name__ == "__main__":
    raise SystemExit(main())
