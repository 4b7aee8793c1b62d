"""EncoderRuntime: the cpu target's batching of requests into ONNX Runtime calls.

The graph here is a small synthetic one with the encoder's contract I/O (a strided
convolution to D channels, upsampled to 128x128, dotted with the query), built with
onnx.helper so this test needs neither torch nor a checkpoint.
"""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.encoder_runtime import EncoderInput, EncoderRuntime

D = 4


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    weights = np.random.default_rng(0).standard_normal((D, 3, 7, 7)).astype(np.float32) * 0.05
    nodes = [
        helper.make_node("Conv", [contract.ENC_PIXELS, "w"], ["f64"], strides=[7, 7]),
        helper.make_node("Resize", ["f64", "", "scales"], ["f128"], mode="nearest"),
        helper.make_node("Einsum", [contract.ENC_QUERY, "f128"], [contract.ENC_SIMILARITY],
                         equation="ntd,ndhw->nthw"),
    ]
    graph = helper.make_graph(
        nodes, "synthetic_encoder",
        [helper.make_tensor_value_info(contract.ENC_PIXELS, TensorProto.FLOAT, ["N", 3, 448, 448]),
         helper.make_tensor_value_info(contract.ENC_QUERY, TensorProto.FLOAT, ["N", "T", D])],
        [helper.make_tensor_value_info(contract.ENC_SIMILARITY, TensorProto.FLOAT, ["N", "T", 128, 128])],
        initializer=[numpy_helper.from_array(weights, "w"),
                     numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path_factory.mktemp("encoder") / "encoder.onnx"
    onnx.save(model, path)
    return EncoderRuntime.from_file(path, intra_op_threads=1)


def _request(rng, tiles, tokens, dim=D):
    return EncoderInput(rng.standard_normal((tiles, 3, 448, 448)).astype(np.float32),
                        rng.standard_normal((tiles, tokens, dim)).astype(np.float32))


def test_batched_requests_equal_separate_runs(runtime):
    rng = np.random.default_rng(1)
    requests = [_request(rng, 2, 3), _request(rng, 1, 1), _request(rng, 3, 3), _request(rng, 1, 1)]
    results = runtime.run_batch(requests)
    assert [r.shape for r in results] == [(2, 3, 128, 128), (1, 1, 128, 128), (3, 3, 128, 128), (1, 1, 128, 128)]
    for request, result in zip(requests, results, strict=True):
        alone = runtime.run(request.pixel_values, request.query_embeddings)
        np.testing.assert_allclose(result, alone, rtol=1e-5, atol=1e-5)


def test_a_failing_group_fails_only_its_own_requests(runtime):
    rng = np.random.default_rng(2)
    good, bad = _request(rng, 1, 2), _request(rng, 1, 5, dim=D + 1)  # wrong D: ONNX Runtime rejects it
    results = runtime.run_batch([good, bad, good])
    assert isinstance(results[1], Exception)
    assert results[0].shape == results[2].shape == (1, 2, 128, 128)


def test_graph_inputs_must_match_the_contract(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "wrong",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = tmp_path / "wrong.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(ValueError, match="contract"):
        EncoderRuntime.from_file(path)
