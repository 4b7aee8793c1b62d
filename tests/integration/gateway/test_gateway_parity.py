"""Parity: the PyTorch reference, ONNX Runtime in-process, and Triton through the gateway
agree to 1e-4 (fp32) on random images of several shapes and tile grids.

The tiny model has seeded random weights; this checks numerics and plumbing only.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from services.models.tokenfd.preprocess import stitch_maps, tile_image
from services.models.tokenfd.reference import TokenFDReference
from services.models.tokenfd.tokenizer import QueryTokenizer
from services.models.tokenfd.triton import contract

TOLERANCE = 1e-4
MIN_SPREAD = 1e-3  # far above TOLERANCE: the maps carry signal the comparison can miss
SHAPES = [(448, 448), (300, 700), (1000, 450), (1300, 900)]  # 1 tile, then multi-tile grids
QUERY = "Total amount 42"


def _image(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def reference(tokenfd_artifacts):
    return TokenFDReference.from_checkpoint(tokenfd_artifacts.checkpoint)


@pytest.fixture(scope="module")
def onnx_locate(tokenfd_artifacts):
    export = tokenfd_artifacts.export
    session = ort.InferenceSession(str(export / "encoder.onnx"), providers=["CPUExecutionProvider"])
    tokenizer = QueryTokenizer.from_file(export / "tokenizer.model")
    table = np.load(export / "tok_embeddings.npy")

    def locate(image: Image.Image, query: str) -> np.ndarray:
        tiled = tile_image(image)
        ids, _ = tokenizer.encode_query(query)
        query_embeddings = np.broadcast_to(table[ids], (tiled.num_tiles, len(ids), table.shape[1]))
        (maps,) = session.run(None, {contract.ENC_PIXELS: tiled.pixel_values,
                                     contract.ENC_QUERY: np.ascontiguousarray(query_embeddings)})
        return stitch_maps(maps, tiled.grid, tiled.has_thumbnail)

    return locate


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{w}x{h}" for w, h in SHAPES])
def test_reference_onnx_and_gateway_agree(shape, reference, onnx_locate, client):
    image = _image(*shape, seed=shape[0] + shape[1])
    expected = reference.locate(image, QUERY)
    in_process = onnx_locate(image, QUERY)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = client.post("/v1/text/locate", json={
        "image": base64.b64encode(buffer.getvalue()).decode(), "query": QUERY, "heatmap_format": "raw"})
    assert response.status_code == 200, response.text
    served = np.stack([np.asarray(token["heatmap"]["values"], dtype=np.float32)
                       for token in response.json()["tokens"]])

    assert expected.shape == in_process.shape == served.shape
    # Non-degenerate maps, so agreement is not two constant arrays agreeing: each token's map spreads.
    for token_map in served:
        assert float(token_map.std()) > MIN_SPREAD and float(np.ptp(token_map)) > 10 * MIN_SPREAD
    assert np.abs(expected - in_process).max() <= TOLERANCE
    assert np.abs(expected - served).max() <= TOLERANCE
    assert np.abs(in_process - served).max() <= TOLERANCE
