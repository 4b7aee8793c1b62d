"""Concurrent locate requests that Triton's dynamic batcher really batches give, value by
value, the maps the same requests give one at a time.

The images differ (so a mixed-up batch, one request's map returned to another, fails the
comparison), the requests are released together by a barrier, and the repository is built
with a long encoder queue delay and enough locate instances that they share encoder
executions; Triton's own counters prove it (fewer executions than inferences).
"""
from __future__ import annotations

import base64
import threading

import httpx
import numpy as np
import pytest

from services.models.tokenfd.triton.repository import RepositoryOptions, build_repository
from services.triton.launcher import TritonServer
from services.triton.repository import Target
from tests.integration.gateway.support import png, running_gateway
from tests.prometheus_text import sample_total, scrape

REQUESTS = 4
TOLERANCE = 1e-4
QUERY = "invoice total"
# 448x448: one tile each, so every request is one encoder row and cross-request batching is the only kind.
IMAGES = [png(448, 448, seed=100 + i) for i in range(REQUESTS)]


@pytest.fixture(scope="module")
def batching_gateway(tokenfd_artifacts, triton_stub_site, tmp_path_factory):
    options = RepositoryOptions(encoder_queue_delay_us=300_000, locate_instances=REQUESTS)
    repository = build_repository(Target.CPU, tokenfd_artifacts.export, tmp_path_factory.mktemp("batching"),
                                  options=options)
    with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as server, \
            running_gateway(server.grpc_url) as url:
        yield url, server


def _encoder_counters(metrics_url: str) -> tuple[float, float]:
    """(inferences, executions) of tokenfd_encoder, from Triton's metrics endpoint."""
    text = scrape(metrics_url)
    model = {"model": "tokenfd_encoder"}
    return sample_total(text, "nv_inference_count", model), sample_total(text, "nv_inference_exec_count", model)


def _locate(http: httpx.Client, image: bytes) -> np.ndarray:
    response = http.post("/v1/text/locate", json={"image": base64.b64encode(image).decode(), "query": QUERY,
                                                  "heatmap_format": "raw"})
    assert response.status_code == 200, response.text
    return np.stack([np.asarray(t["heatmap"]["values"], dtype=np.float32) for t in response.json()["tokens"]])


def test_concurrent_batched_requests_match_one_at_a_time(batching_gateway):
    url, server = batching_gateway
    with httpx.Client(base_url=url, timeout=120) as http:
        alone = [_locate(http, image) for image in IMAGES]

    # The images give different maps, so a swap inside a batch cannot go unnoticed.
    for i in range(REQUESTS):
        for j in range(i + 1, REQUESTS):
            assert np.abs(alone[i] - alone[j]).max() > 100 * TOLERANCE, (i, j)

    before = _encoder_counters(server.metrics_url)
    barrier = threading.Barrier(REQUESTS)
    together: list[np.ndarray | BaseException | None] = [None] * REQUESTS

    def send(index: int) -> None:
        try:
            with httpx.Client(base_url=url, timeout=120) as http:
                barrier.wait(timeout=30)
                together[index] = _locate(http, IMAGES[index])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            together[index] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    after = _encoder_counters(server.metrics_url)

    inferences, executions = after[0] - before[0], after[1] - before[1]
    assert inferences == REQUESTS, (inferences, executions)
    assert executions < inferences, f"the encoder did not batch: {inferences} rows in {executions} executions"
    for index, result in enumerate(together):
        assert isinstance(result, np.ndarray), result
        assert result.shape == alone[index].shape
        assert np.abs(result - alone[index]).max() <= TOLERANCE, index
