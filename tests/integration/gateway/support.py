"""Support for gateway tests: a real gateway process, and good and hostile image bytes."""
from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from contextlib import contextmanager

import httpx
import numpy as np
from PIL import Image

from services.common.net import find_free_ports
from services.triton import generation as contract
from tests.prometheus_text import sample_total, scrape

VQA = "/v1/documents/vqa"
TOKENVL_LABELS = {"model": contract.TOKENVL_MODEL}  # the labels of the tokenvl model's metrics


@contextmanager
def running_gateway(triton_grpc_url: str, **env_overrides: str):
    """Start `python -m gateway`; yield its base URL; stop its whole process group."""
    (port,) = find_free_ports(1)
    env = {**os.environ, "PERCEPT_GATEWAY_TRITON_URL": triton_grpc_url, "PERCEPT_GATEWAY_HOST": "127.0.0.1",
           "PERCEPT_GATEWAY_PORT": str(port), "PERCEPT_GATEWAY_TRITON_RETRY_BACKOFF_S": "0.05", **env_overrides}
    log = tempfile.TemporaryFile()  # a file, not a pipe: nobody reads it while the gateway runs
    process = subprocess.Popen([sys.executable, "-m", "gateway"], env=env, start_new_session=True,
                               stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"the gateway did not start:\n{output[-3000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def png(width: int, height: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but carries (almost) no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b""))
            + _chunk(b"IEND", b""))


def truncated_png() -> bytes:
    data = png(300, 300, seed=3)
    return data[: len(data) // 2]


# --- the tokenvl model's own gauges on Triton's metrics (model_repository/tokenvl) ----------------------

def _tokenvl_metric(triton_server, name: str) -> float:
    return sample_total(scrape(triton_server.metrics_url), name, TOKENVL_LABELS) or 0.0


def tokenvl_in_flight(triton_server) -> float:
    return _tokenvl_metric(triton_server, contract.IN_FLIGHT_METRIC)


def tokenvl_cancelled(triton_server) -> float:
    return _tokenvl_metric(triton_server, contract.CANCELLED_METRIC)


def tokenvl_settled(triton_server, timeout_s: float = 10.0) -> float:
    """The tokenvl model's in-flight gauge once it has come down (or what it reads at `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while (count := tokenvl_in_flight(triton_server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def assert_leaving_cancelled(gateway_url: str, triton_server, cancelled_before: float, endpoint: str) -> None:
    """After a client left a tokenvl stream: the generation stopped in Triton because the client left
    (the model's cancelled counter is one up, nothing in flight) and the gateway counted it cancelled."""
    assert tokenvl_settled(triton_server) == 0
    assert tokenvl_cancelled(triton_server) == cancelled_before + 1  # stopped, not finished
    metrics = scrape(f"{gateway_url}/metrics")
    assert sample_total(metrics, "percept_gateway_generations_total",
                        {"outcome": "cancelled", "endpoint": endpoint}) == 1
    assert sample_total(metrics, "percept_gateway_generations_in_flight", TOKENVL_LABELS) == 0
