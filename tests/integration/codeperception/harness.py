"""A real `python -m services.codeperception` process for tests, on free ports."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.codeperception.protos import codeperception_pb2_grpc
from services.common.net import find_free_ports
from tests.prometheus_text import sample_total, scrape

START_TIMEOUT_S = 60.0


class CodePerceptionServer:
    def __init__(self, sandbox_target: str, **env: str) -> None:
        self.port, self.metrics_port = find_free_ports(2)
        self.target = f"127.0.0.1:{self.port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.env = {**os.environ, "PERCEPT_CODEPERCEPTION_GRPC_PORT": str(self.port),
                    "PERCEPT_CODEPERCEPTION_METRICS_PORT": str(self.metrics_port),
                    "PERCEPT_CODEPERCEPTION_SANDBOX_URL": sandbox_target, **env}
        self.log = tempfile.NamedTemporaryFile(prefix="codeperception-", suffix=".log", delete=False)
        self.process: subprocess.Popen | None = None

    def start(self) -> "CodePerceptionServer":
        self.process = subprocess.Popen([sys.executable, "-m", "services.codeperception"], env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}:\n{self.log_text()}")
            if self.serving():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the service did not become healthy:\n{self.log_text()}")

    def serving(self) -> bool:
        with grpc.insecure_channel(self.target) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
            except grpc.RpcError:
                return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def stub(self, channel: grpc.Channel) -> codeperception_pb2_grpc.CodePerceptionServiceStub:
        return codeperception_pb2_grpc.CodePerceptionServiceStub(channel)

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.target, options=[("grpc.max_receive_message_length", 64 << 20),
                                                           ("grpc.max_send_message_length", 64 << 20)])

    def metrics(self) -> str:
        return scrape(self.metrics_url)

    def metric_value(self, name: str, labels: str = "") -> float:
        """0 for a labelled sample that was never incremented (prometheus-client omits it)."""
        return sample_total(self.metrics(), name, labels) or 0.0

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()

    def __enter__(self) -> "CodePerceptionServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run(coroutine):
    return asyncio.run(coroutine)
