"""tile_loop: a graph wrapped in a Loop over its tile axis computes what it computed, for any
number of tiles, with its weights inline or in an external data file."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from services.models.tokenfd.tile_loop import is_wrapped, loop_over_tiles, rewrite_file, unwrap

K = 64


def _tile_graph(weight: np.ndarray) -> onnx.ModelProto:
    """(N, 3, K) x, (N, T, K) q -> (N, T, 3), K = 64 (a weight big enough for external data): a per-tile
    function with a weight and a reduction over the tile's own rows, so mixing tiles up would change the answer."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]),
             helper.make_node("Transpose", ["xw"], ["xw_t"], perm=[0, 2, 1]),
             helper.make_node("MatMul", ["q", "xw_t"], ["scores"]),
             helper.make_node("Softmax", ["scores"], ["y"], axis=-1)]
    graph = helper.make_graph(
        nodes, "tile_fn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["tiles", 3, K]),
         helper.make_tensor_value_info("q", TensorProto.FLOAT, ["tiles", "tokens", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["tiles", "tokens", 3])],
        initializer=[numpy_helper.from_array(weight, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _run(model_or_path, x, q):
    source = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    return ort.InferenceSession(source, providers=["CPUExecutionProvider"]).run(None, {"x": x, "q": q})[0]


@pytest.mark.parametrize("tiles", [1, 2, 5])
def test_the_loop_computes_the_graph(tiles):
    rng = np.random.default_rng(tiles)
    weight = rng.standard_normal((K, K), dtype=np.float32)
    x = rng.standard_normal((tiles, 3, K), dtype=np.float32)
    q = rng.standard_normal((tiles, 2, K), dtype=np.float32)
    expected = _run(_tile_graph(weight), x, q)
    wrapped = loop_over_tiles(_tile_graph(weight))
    onnx.checker.check_model(wrapped, full_check=True)
    assert [n.op_type for n in wrapped.graph.node][-1] == "Loop"
    assert [i.name for i in wrapped.graph.input] == ["x", "q"] and [o.name for o in wrapped.graph.output] == ["y"]
    ours = _run(wrapped, x, q)
    assert ours.shape == expected.shape == (tiles, 2, 3)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("external", [False, True])
def test_rewrite_file_keeps_the_weights_where_they_were(tmp_path, external):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((K, K), dtype=np.float32)
    path = tmp_path / "graph.onnx"
    if external:
        onnx.save_model(_tile_graph(weight), str(path), save_as_external_data=True, location="old.data",
                        size_threshold=0)
    else:
        onnx.save_model(_tile_graph(weight), str(path))
    x, q = rng.standard_normal((3, 3, K), dtype=np.float32), rng.standard_normal((3, 2, K), dtype=np.float32)
    expected = _run(str(path), x, q)
    rewrite_file(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["graph.onnx", "graph.onnx.data"] if external
                                                          else ["graph.onnx"])
    np.testing.assert_allclose(_run(str(path), x, q), expected, rtol=1e-6, atol=1e-6)


def test_unwrap_gives_back_the_graph():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((K, K), dtype=np.float32)
    original = _tile_graph(weight)
    wrapped = loop_over_tiles(_tile_graph(weight))
    assert is_wrapped(wrapped) and not is_wrapped(original)
    back = unwrap(wrapped)
    assert not is_wrapped(back)
    assert [(n.op_type, list(n.input), list(n.output)) for n in back.graph.node] == \
        [(n.op_type, list(n.input), list(n.output)) for n in original.graph.node]
    x, q = rng.standard_normal((2, 3, K), dtype=np.float32), rng.standard_normal((2, 2, K), dtype=np.float32)
    np.testing.assert_array_equal(_run(back, x, q), _run(original, x, q))
