"""ONNX export of the tiny seeded TokenFD: the graph, the artefacts, and parity of
ONNX Runtime (the serving computation) with the PyTorch reference."""
import hashlib
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image

from services.models.tokenfd import export as export_cli
from services.models.tokenfd.artifacts import CPU_ONNX_FILE, ONNX_FILE
from services.models.tokenfd.export_onnx import quantize_int8
from services.models.tokenfd.export_tensorrt import gpu_present
from services.models.tokenfd.preprocess import stitch_maps, tile_image
from services.models.tokenfd.reference import TokenFDReference
from services.models.tokenfd.tokenizer import QueryTokenizer
from services.models.tokenfd.triton import contract
from tests.torch_free import assert_runs_without_torch

TOLERANCE = 1e-4   # fp32, max abs difference of cosine similarities


@pytest.fixture(scope="module", params=[CPU_ONNX_FILE, ONNX_FILE], ids=["cpu_graph", "portable_graph"])
def session(request, tiny_export):
    """Both exported graphs: the cpu graph the cpu target serves, and the portable one TensorRT reads."""
    return ort.InferenceSession(str(tiny_export / request.param), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def reference(tiny_checkpoint):
    return TokenFDReference.from_checkpoint(tiny_checkpoint)


def random_image(width, height, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def served_locate(export_dir, session, image, query, max_tiles=12):
    """What tokenfd_locate computes: tile, tokenize, look up, ONNX Runtime, stitch."""
    tokenizer = QueryTokenizer.from_file(export_dir / "tokenizer.model")
    table = np.load(export_dir / "tok_embeddings.npy")
    ids, _ = tokenizer.encode_query(query)
    tiled = tile_image(image, max_tiles=max_tiles)
    queries = np.ascontiguousarray(np.broadcast_to(table[ids], (tiled.num_tiles, len(ids), table.shape[1])))
    (maps,) = session.run([contract.ENC_SIMILARITY], {contract.ENC_PIXELS: tiled.pixel_values,
                                                      contract.ENC_QUERY: queries})
    return stitch_maps(maps, tiled.grid, tiled.has_thumbnail), tiled, maps


# --- the graph ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", [ONNX_FILE, CPU_ONNX_FILE])
def test_graph_is_valid_with_the_contract_signature(tiny_export, name):
    path = tiny_export / name
    onnx.checker.check_model(str(path))
    model = onnx.load(str(path))
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    inputs = {i.name: i for i in model.graph.input}
    assert list(inputs) == [contract.ENC_PIXELS, contract.ENC_QUERY]
    assert [o.name for o in model.graph.output] == [contract.ENC_SIMILARITY]
    pixels, queries, similarity = dims(inputs[contract.ENC_PIXELS]), dims(inputs[contract.ENC_QUERY]), \
        dims(model.graph.output[0])
    assert isinstance(pixels[0], str) and pixels[1:] == [3, 448, 448]
    assert queries[0] == pixels[0] and isinstance(queries[1], str) and queries[2] == 32
    assert similarity[:2] == queries[:2] and similarity[2:] == [128, 128]
    for value in list(model.graph.input) + list(model.graph.output):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    # the embedding table is not in the graph
    assert not any(tuple(i.dims) == (512, 32) for i in model.graph.initializer)


@pytest.mark.parametrize("tiles, tokens", [(1, 1), (3, 5), (13, 2)])
def test_encoder_parity_with_pytorch(session, reference, tiles, tokens):
    rng = np.random.default_rng(tiles * 10 + tokens)
    pixels = rng.standard_normal((tiles, 3, 448, 448), dtype=np.float32)
    queries = rng.standard_normal((tiles, tokens, 32), dtype=np.float32)
    (ours,) = session.run(None, {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: queries})
    expected = reference.similarity(pixels, queries).numpy()
    assert ours.shape == (tiles, tokens, 128, 128)
    assert np.abs(ours - expected).max() <= TOLERANCE
    assert ours.std() > 0.05   # random weights, but not a degenerate map


# --- the whole request -------------------------------------------------------------------
@pytest.mark.parametrize("size, grid", [((420, 380), (1, 1)), ((896, 448), (2, 1)), ((1344, 896), (3, 2))],
                         ids=["one_tile", "2x1", "3x2"])
def test_served_pipeline_matches_the_reference(tiny_export, session, reference, size, grid):
    image = random_image(*size, seed=size[0])
    ours, tiled, _ = served_locate(tiny_export, session, image, "the invoice total")
    expected = reference.locate(image, "the invoice total")
    cols, rows = grid
    assert tiled.grid == grid
    assert ours.shape == expected.shape == (len(reference.tokenize("the invoice total")[0]), 128 * rows, 128 * cols)
    assert np.abs(ours - expected).max() <= TOLERANCE


def test_a_one_tile_image_keeps_its_only_tile(tiny_export, session, reference):
    """Upstream would have dropped it (no thumbnail exists for one tile)."""
    image = random_image(300, 290, seed=1)
    ours, tiled, maps = served_locate(tiny_export, session, image, "text")
    assert tiled.num_tiles == 1 and not tiled.has_thumbnail
    np.testing.assert_array_equal(ours, maps[0])
    assert np.abs(reference.locate(image, "text") - ours).max() <= TOLERANCE


def test_max_tiles_limits_the_grid(tiny_export, session, reference):
    image = random_image(1800, 300, seed=2)
    ours, tiled, _ = served_locate(tiny_export, session, image, "42", max_tiles=2)
    assert tiled.grid == (2, 1)
    assert np.abs(reference.locate(image, "42", max_tiles=2) - ours).max() <= TOLERANCE


# --- artefacts ---------------------------------------------------------------------------
def test_artefacts_match_the_checkpoint(tiny_export, tiny_checkpoint):
    from safetensors.numpy import load_file

    weights = load_file(str(tiny_checkpoint / "model.safetensors"))
    table = np.load(tiny_export / "tok_embeddings.npy")
    assert table.dtype == np.float32 and table.flags.c_contiguous
    np.testing.assert_array_equal(table, weights["tok_embeddings.weight"])
    assert (tiny_export / "tokenizer.model").read_bytes() == (tiny_checkpoint / "tokenizer.model").read_bytes()
    meta = json.loads((tiny_export / "tokenfd.json").read_text())
    digest = hashlib.sha256((tiny_checkpoint / "model.safetensors").read_bytes()).hexdigest()
    assert meta["model_id"] == digest[:16]
    assert meta["D"] == 32 and meta["vocab_size"] == 512 and meta["tile_size"] == 448
    assert meta["feature_grid"] == 128 and meta["max_tiles"] == 12
    assert meta["source_checkpoint"] == tiny_checkpoint.name == meta["name"]


def test_serving_modules_do_not_import_torch(tmp_path):
    assert_runs_without_torch(
        "import services.models.tokenfd\n"
        "from services.models.tokenfd import config, preprocess, tokenizer, fixtures\n"
        f"fixtures.build_tiny_checkpoint({str(tmp_path / 'ck')!r})")


def test_int8_variant_runs_close_to_fp32(tiny_export, tmp_path):
    session = ort.InferenceSession(str(tiny_export / CPU_ONNX_FILE), providers=["CPUExecutionProvider"])
    quantized = ort.InferenceSession(str(quantize_int8(tiny_export / CPU_ONNX_FILE, tmp_path / "int8.onnx")),
                                     providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {contract.ENC_PIXELS: rng.standard_normal((1, 3, 448, 448), dtype=np.float32),
             contract.ENC_QUERY: rng.standard_normal((1, 3, 32), dtype=np.float32)}
    (fp32,), (int8,) = session.run(None, feeds), quantized.run(None, feeds)
    assert int8.shape == fp32.shape
    assert np.corrcoef(fp32.ravel(), int8.ravel())[0, 1] > 0.95
    assert np.abs(int8 - fp32).max() > 1e-5     # quantised for real, not the fp32 graph again


# --- CLI -----------------------------------------------------------------------------------
def test_cli_refuses_a_broken_checkpoint_with_a_message(tmp_path, capsys):
    (tmp_path / "ck").mkdir()
    assert export_cli.main(["--checkpoint", str(tmp_path / "ck"), "--out", str(tmp_path / "out")]) == 2
    assert "config.json" in capsys.readouterr().err


@pytest.mark.skipif(gpu_present(), reason="checks the no-GPU message")
def test_cli_tensorrt_without_a_gpu_fails_clearly(tmp_path, capsys):
    code = export_cli.main(["--checkpoint", str(tmp_path), "--out", str(tmp_path / "out"),
                            "--tensorrt", str(tmp_path / "model.plan")])
    assert code != 0
    assert "TensorRT needs an NVIDIA GPU" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_exports_a_seeded_checkpoint(tmp_path, capsys):
    assert export_cli.main(["--tiny", str(tmp_path / "ck"), "--seed", "1", "--out", str(tmp_path / "out")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["D"] == 32
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "encoder.cpu.onnx", "encoder.onnx", "tok_embeddings.npy", "tokenfd.json", "tokenizer.model"]
