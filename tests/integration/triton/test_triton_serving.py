"""tokenfd_locate on a real tritonserver (the tiny seeded model, cpu target).

Numbers are compared with ONNX Runtime run in this process on the same tiles: the
served path (decode, tile, tokenize, embed, BLS to the encoder in chunks, stitch)
must not change them.
"""
import io
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from PIL import Image, ImageDraw
from tritonclient.utils import InferenceServerException

from services.common.images import decode_image
from services.models.tokenfd.config import DEFAULT_MAX_TILES
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.repository import RepositoryOptions, build_repository
from services.triton.launcher import TritonServer

OUTPUTS = (contract.LOC_SIMILARITY, contract.LOC_TOKEN_IDS, contract.LOC_TOKEN_TEXTS, contract.LOC_GRID,
           contract.LOC_NUM_TILES, contract.LOC_IMAGE_SIZE)
G = contract.FEATURE_GRID


def png(width: int, height: int, text: str = "percept 42") -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((width // 8, height // 3), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def locate_inputs(module, image: bytes, query: bytes, max_tiles: int | None = None):
    tensors = [module.InferInput(contract.LOC_IMAGE, [1], "BYTES"), module.InferInput(contract.LOC_QUERY, [1], "BYTES")]
    tensors[0].set_data_from_numpy(np.array([image], dtype=np.object_))
    tensors[1].set_data_from_numpy(np.array([query], dtype=np.object_))
    if max_tiles is not None:
        tiles = module.InferInput(contract.LOC_MAX_TILES, [1], "INT32")
        tiles.set_data_from_numpy(np.array([max_tiles], dtype=np.int32))
        tensors.append(tiles)
    return tensors


def locate(client: grpcclient.InferenceServerClient, image: bytes, query: str, max_tiles: int | None = None):
    result = client.infer(contract.TOKENFD_LOCATE, locate_inputs(grpcclient, image, query.encode(), max_tiles))
    return {name: result.as_numpy(name) for name in OUTPUTS}


def metric(server: TritonServer, name: str, model: str) -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    match = re.search(rf'^{name}{{model="{model}",version="1"}} (\S+)$', text, re.M)
    assert match, f"{name} for {model} not in the metrics"
    return float(match.group(1))


@pytest.fixture(scope="module")
def client(triton_server):
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        yield client


@pytest.fixture(scope="module")
def reference(tokenfd_artifacts):
    """The same computation in this process: preprocess + tokenizer + ONNX Runtime."""
    from services.models.tokenfd.preprocess import stitch_maps, tile_image
    from services.models.tokenfd.tokenizer import QueryTokenizer

    export = tokenfd_artifacts.export
    tokenizer = QueryTokenizer.from_file(export / "tokenizer.model")
    embeddings = np.load(export / "tok_embeddings.npy")
    session = ort.InferenceSession(str(export / "encoder.onnx"), providers=["CPUExecutionProvider"])

    def compute(image: bytes, query: str, max_tiles: int = DEFAULT_MAX_TILES):
        ids, pieces = tokenizer.encode_query(query)
        tiled = tile_image(decode_image(image), max_tiles=max_tiles)
        queries = np.broadcast_to(embeddings[np.asarray(ids)], (tiled.num_tiles, len(ids), embeddings.shape[1]))
        (maps,) = session.run([contract.ENC_SIMILARITY], {
            contract.ENC_PIXELS: tiled.pixel_values,
            contract.ENC_QUERY: np.ascontiguousarray(queries, dtype=np.float32)})
        return stitch_maps(maps, tiled.grid, tiled.has_thumbnail), list(ids), [str(p) for p in pieces], tiled

    return compute


@pytest.mark.parametrize("size", [(320, 200), (1400, 420)], ids=["one_tile", "several_tiles"])
def test_locate_returns_the_contract_outputs_equal_to_onnxruntime(client, reference, size):
    image, query = png(*size), "percept"
    out = locate(client, image, query)
    expected, ids, pieces, tiled = reference(image, query)
    cols, rows = tiled.grid
    T = len(ids)
    assert out[contract.LOC_SIMILARITY].dtype == np.float32
    assert out[contract.LOC_SIMILARITY].shape == (T, G * rows, G * cols)
    assert out[contract.LOC_TOKEN_IDS].dtype == np.int64 and out[contract.LOC_TOKEN_IDS].tolist() == ids
    assert [t.decode("utf-8") for t in out[contract.LOC_TOKEN_TEXTS]] == pieces
    assert out[contract.LOC_GRID].tolist() == [cols, rows]
    assert out[contract.LOC_NUM_TILES].tolist() == [tiled.num_tiles]
    assert out[contract.LOC_IMAGE_SIZE].tolist() == list(size)
    np.testing.assert_allclose(out[contract.LOC_SIMILARITY], expected, atol=1e-4, rtol=0)
    if size == (1400, 420):
        assert cols * rows > 1 and tiled.num_tiles == cols * rows + 1  # thumbnail sent, then dropped


def test_max_tiles_limits_the_grid(client, reference):
    image = png(1400, 420)
    out = locate(client, image, "percept", max_tiles=2)
    expected, *_ = reference(image, "percept", max_tiles=2)
    cols, rows = out[contract.LOC_GRID].tolist()
    assert cols * rows <= 2
    np.testing.assert_allclose(out[contract.LOC_SIMILARITY], expected, atol=1e-4, rtol=0)


def test_a_spelled_query_brings_its_letters_and_an_unspelled_one_none(client, reference):
    image = png(320, 200)
    inputs = locate_inputs(grpcclient, image, b"percept")
    spell = grpcclient.InferInput(contract.LOC_SPELL, [1], "BOOL")
    spell.set_data_from_numpy(np.array([True]))
    result = client.infer(contract.TOKENFD_LOCATE, [*inputs, spell])
    letters = result.as_numpy(contract.LOC_LETTER_SIMILARITY)
    assert [t.decode("utf-8") for t in result.as_numpy(contract.LOC_LETTER_TEXTS)] == [
        "\u2581p", "e", "r", "c", "e", "p", "t"]
    expected, *_ = reference(image, "percept")
    assert letters.dtype == np.float32 and letters.shape == (7, *expected.shape[1:])
    np.testing.assert_allclose(result.as_numpy(contract.LOC_SIMILARITY), expected, atol=1e-4, rtol=0)
    alone, *_ = reference(image, "p")          # the first letter's map: the word-initial piece's
    np.testing.assert_allclose(letters[0], alone[0], atol=1e-4, rtol=0)
    plain = client.infer(contract.TOKENFD_LOCATE, inputs)
    assert plain.as_numpy(contract.LOC_LETTER_SIMILARITY).shape[0] == 0
    assert plain.as_numpy(contract.LOC_LETTER_TEXTS).size == 0


CLIENT_FAULTS = {
    "garbage_image": (b"definitely not an image", b"percept", None, "invalid_image"),
    "empty_image": (b"", b"percept", None, "empty_image"),
    "truncated_png": (png(300, 200)[:120], b"percept", None, None),  # truncated or invalid: both 4xx
    "empty_query": (png(64, 64), b"", None, "invalid_query"),
    "blank_query": (png(64, 64), b"   \t", None, "invalid_query"),
    "not_utf8_query": (png(64, 64), b"\xff\xfe", None, "invalid_query"),
    "overlong_query": (png(64, 64), b"x" * 1000, None, "query_too_long"),
    "zero_tiles": (png(64, 64), b"percept", 0, "invalid_request"),
    "too_many_tiles": (png(64, 64), b"percept", 99, "invalid_request"),
}


@pytest.mark.parametrize("case", CLIENT_FAULTS, ids=list(CLIENT_FAULTS))
def test_client_faults_come_back_typed_and_the_server_stays_healthy(client, triton_server, case):
    image, query, max_tiles, code = CLIENT_FAULTS[case]
    with pytest.raises(InferenceServerException) as caught:
        client.infer(contract.TOKENFD_LOCATE, locate_inputs(grpcclient, image, query, max_tiles))
    error = caught.value
    assert error.status() == "StatusCode.INVALID_ARGUMENT"
    prefix = re.match(r"^\[([a-z_]+)\] ", error.message())
    assert prefix, error.message()
    if code is None:
        assert prefix.group(1) in {"invalid_image", "truncated_image"}
    else:
        assert prefix.group(1) == code
    assert triton_server.is_ready()
    assert locate(client, png(64, 64), "ok")[contract.LOC_SIMILARITY].size > 0


def test_http_clients_get_400_with_the_same_code(triton_server):
    client = httpclient.InferenceServerClient(triton_server.http_address)
    try:
        with pytest.raises(InferenceServerException) as caught:
            client.infer(contract.TOKENFD_LOCATE, locate_inputs(httpclient, b"not an image", b"percept"))
    finally:
        client.close()  # an open keep-alive connection holds the server's shutdown for its exit timeout
    assert caught.value.status() == "400"
    assert caught.value.message().startswith("[invalid_image] ")


def test_concurrent_requests_all_succeed(client):
    images = [png(200 + 40 * i, 160) for i in range(8)]  # grids from one tile to several
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda image: locate(client, image, "percept"), images))
    for result in results:
        cols, rows = result[contract.LOC_GRID].tolist()
        assert result[contract.LOC_SIMILARITY].shape[1:] == (G * rows, G * cols)


def test_concurrent_requests_share_encoder_executions(tokenfd_artifacts, triton_stub_site, tmp_path):
    """With several locate instances and a generous batching window, concurrent requests'
    encoder calls are merged: fewer encoder executions than encoder requests."""
    options = RepositoryOptions(locate_instances=4, encoder_queue_delay_us=500_000)
    repository = build_repository("cpu", tokenfd_artifacts.export, tmp_path / "repo", options=options)
    seen = []
    with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as server, \
            grpcclient.InferenceServerClient(server.grpc_url) as client:
        # Batching is opportunistic: on a loaded machine one burst may straggle past the
        # window, so up to three bursts get the chance to show it.
        for _ in range(3):
            requests_before = metric(server, "nv_inference_request_success", contract.TOKENFD_ENCODER)
            executions_before = metric(server, "nv_inference_exec_count", contract.TOKENFD_ENCODER)
            # square images: one tile each, so any of the requests fit one encoder batch together
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda i: locate(client, png(200, 200, f"word {i}"), "percept"), range(8)))
            assert len(results) == 8
            requests = metric(server, "nv_inference_request_success", contract.TOKENFD_ENCODER) - requests_before
            executions = metric(server, "nv_inference_exec_count", contract.TOKENFD_ENCODER) - executions_before
            assert requests == 8
            seen.append(executions)
            if executions < requests:
                break
    assert min(seen) < 8, f"no burst was batched: executions per burst {seen}"


def test_a_full_encoder_queue_is_reported_as_resource_exhausted(tokenfd_artifacts, triton_stub_site, tmp_path):
    """Back-pressure: with room for one waiting encoder request, concurrent requests beyond
    it are refused at once with a retryable code instead of queueing without bound."""
    options = RepositoryOptions(locate_instances=4, encoder_queue_delay_us=1_000_000, encoder_max_queue_size=1)
    repository = build_repository("cpu", tokenfd_artifacts.export, tmp_path / "repo", options=options)

    def attempt(client, i):
        try:
            locate(client, png(200, 200, f"word {i}"), "percept")
            return "ok"
        except InferenceServerException as error:
            return error.status(), error.message()

    with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as server, \
            grpcclient.InferenceServerClient(server.grpc_url) as client:
        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(lambda i: attempt(client, i), range(4)))
        refused = [o for o in outcomes if o != "ok"]
        assert "ok" in outcomes and refused, outcomes
        for status, message in refused:
            assert status == "StatusCode.UNAVAILABLE"
            assert message.startswith("[resource_exhausted] "), message
        assert server.is_ready()
