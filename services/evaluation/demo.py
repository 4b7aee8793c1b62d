"""`make eval-demo`: the whole loop on a fresh checkout, nothing to start by hand.

Starts a sandbox-runner server (the production `percept-sandbox serve`) on free local
ports, writes a small benchmark-format split with the data engine, runs the harness with
the reference backend over it, prints the summary and the report's path, and stops the
server. It opens nothing.
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .cli import main as percept_eval

START_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving(target: str) -> bool:
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def start_sandbox(log) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    target = f"127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "percept_sandbox.cli", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--metrics-host", "127.0.0.1", "--metrics-port",
                                str(_free_port()), "--workers", "2", "--queue-size", "8"],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _serving(target):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the sandbox server did not start (log: {log.name})")
        time.sleep(0.2)
    return process, target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.evaluation.demo")
    parser.add_argument("--out", type=Path, default=Path("artifacts/eval-demo"))
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    split, run = args.out / "split", args.out / "run"
    with tempfile.NamedTemporaryFile(prefix="eval-demo-sandbox-", suffix=".log", delete=False) as log:
        process, target = start_sandbox(log)
        try:
            if not (split / "data.jsonl").is_file():
                status = percept_eval(["synth", "--split", str(split), "--count", str(args.count),
                                       "--seed", str(args.seed), "--sandbox", target])
                if status:
                    return status
            return percept_eval(["run", "--data", str(split / "data.jsonl"), "--images", str(split / "images"),
                                 "--out", str(run), "--backend", "reference", "--sandbox", target])
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
