"""The STEM chain as real processes: a `percept-sandbox serve`, a code-perception service
(`python -m services.codeperception`, reference backend) and the dataset it answers from.

The dataset is built with the service's own builder (services/codeperception/sample_dataset.py)
from a few programs of tests/sandbox/corpus, rendered by the same sandbox server at the
service's default DPI, so the reference backend's answers score about 1.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.codeperception import settings as codeperception_settings
from services.codeperception.sample_dataset import build_sample, client_renderer
from services.common.net import find_free_ports
from tests.sandbox.harness import CORPUS, SandboxServer

# A few STEM-style programs of varied kinds (function plot, geometry, contour, bars from pandas).
PROGRAMS = ("s01_sine_cosine.py", "s02_triangle_geometry.py", "s05_contour.py", "s10_bar_grouped.py")
DPI = codeperception_settings.RENDER_DPI.default
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class StemStack:
    sandbox: SandboxServer
    codeperception_url: str
    dataset: Path

    def images(self) -> dict[str, bytes]:
        """Dataset image bytes by program name (without `.py`)."""
        return {path.stem: path.read_bytes() for path in sorted((self.dataset / "images").glob("*.png"))}

    def code(self, name: str) -> str:
        return (CORPUS / f"{name}.py").read_text()


def build_dataset(sandbox: SandboxServer, out: Path, programs: tuple[str, ...] = PROGRAMS) -> Path:
    corpus = out.parent / f"{out.name}-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name in programs:
        shutil.copy(CORPUS / name, corpus / name)
    with sandbox.client() as client:
        return build_sample(out, client_renderer(client, DPI), corpus=corpus)


def health(target: str) -> int | None:
    with grpc.insecure_channel(target) as channel:
        try:
            return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2).status
        except grpc.RpcError:
            return None


class CodePerceptionProcess:
    """`python -m services.codeperception` on its own ports; start() waits for SERVING."""

    def __init__(self, sandbox_target: str, dataset: Path, *, grpc_port: int | None = None,
                 **env_overrides: str) -> None:
        grpc_port = grpc_port or find_free_ports(1)[0]
        (metrics_port,) = find_free_ports(1)
        self.target = f"127.0.0.1:{grpc_port}"
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        self.env = {**os.environ, "PERCEPT_CODEPERCEPTION_GRPC_PORT": str(grpc_port),
                    "PERCEPT_CODEPERCEPTION_METRICS_PORT": str(metrics_port),
                    "PERCEPT_CODEPERCEPTION_SANDBOX_URL": sandbox_target,
                    "PERCEPT_CODEPERCEPTION_BACKEND": "reference",
                    "PERCEPT_CODEPERCEPTION_DATASET_DIR": str(dataset), **env_overrides}
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()

    def start(self) -> "CodePerceptionProcess":
        self.process = subprocess.Popen([sys.executable, "-m", "services.codeperception"], env=self.env,
                                        start_new_session=True, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while health(self.target) != health_pb2.HealthCheckResponse.SERVING:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self.log.seek(0)
                raise RuntimeError(f"the code-perception service did not start:\n"
                                   f"{self.log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def __enter__(self) -> "CodePerceptionProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log.close()


@contextmanager
def running_codeperception(sandbox_target: str, dataset: Path, **env_overrides: str):
    """Start the service; yield its gRPC target once it reports SERVING; stop its process group."""
    with CodePerceptionProcess(sandbox_target, dataset, **env_overrides) as service:
        yield service.target


def stop_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def stem_stack(*, workers: int = 2, queue_size: int = 4, sandbox_env: dict | None = None,
               service_env: dict | None = None, dataset: Path | None = None):
    """Sandbox server + dataset (built unless given) + code-perception service."""
    with tempfile.TemporaryDirectory(prefix="stem-stack-") as scratch, \
            SandboxServer(workers=workers, queue_size=queue_size, env=sandbox_env) as sandbox:
        dataset = dataset or build_dataset(sandbox, Path(scratch) / "stem2code")
        with running_codeperception(sandbox.target, dataset, **(service_env or {})) as url:
            yield StemStack(sandbox, url, dataset)
