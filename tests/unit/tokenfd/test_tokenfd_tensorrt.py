"""TensorRT engine build from the exported ONNX encoder.

Without an NVIDIA GPU only the refusal is tested; the build and its parity with ONNX
Runtime need a GPU and the tensorrt package (marker `gpu`, skipped otherwise)."""
import numpy as np
import pytest

from services.models.tokenfd import export_tensorrt
from services.models.tokenfd.config import DEFAULT_MAX_TILES, ENCODER_MAX_BATCH_SIZE
from services.models.tokenfd.export_tensorrt import TensorRTUnavailable, build_plan, encoder_profile, gpu_present
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.repository import RepositoryOptions, encoder_config
from services.triton.repository import Target


def test_the_default_profile_serves_the_default_repository():
    """The engine must accept every batch Triton's dynamic batcher forms: its max tile
    count is the encoder's max_batch_size (13 = 12 tiles + thumbnail could not serve 16)."""
    profile = encoder_profile()
    assert profile.tiles[2] == encoder_config(Target.GPU, 32, RepositoryOptions()).max_batch_size
    # (1, 13, 16) today; opt: one request of max tiles + its thumbnail
    assert profile.tiles == (1, DEFAULT_MAX_TILES + 1, ENCODER_MAX_BATCH_SIZE)
    assert profile.tokens == (1, 8, 64)      # max: PERCEPT_MAX_QUERY_TOKENS, padded to a power of two


@pytest.mark.parametrize("batch, max_tiles", [(4, 12), (8, 2), (32, 24), (1, 1)])
def test_the_profile_follows_the_repository_options(batch, max_tiles):
    options = RepositoryOptions(encoder_max_batch_size=batch, max_tiles=max_tiles)
    profile = encoder_profile(options.encoder_max_batch_size, max_tiles=options.max_tiles)
    assert profile.tiles[2] == encoder_config(Target.GPU, 32, options).max_batch_size
    assert profile.tiles[0] <= profile.tiles[1] <= profile.tiles[2]
    assert profile.tiles[1] == min(batch, max_tiles + 1 if max_tiles > 1 else 1)


def test_the_query_axis_covers_the_padded_query_limit(monkeypatch):
    monkeypatch.setenv("PERCEPT_MAX_QUERY_TOKENS", "100")
    assert encoder_profile().tokens == (1, 8, 128)


def test_without_a_gpu_build_plan_refuses_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(export_tensorrt, "gpu_present", lambda: False)
    with pytest.raises(TensorRTUnavailable, match="TensorRT needs an NVIDIA GPU and the tensorrt package"):
        build_plan(tmp_path / "encoder.onnx", tmp_path / "model.plan")
    assert not (tmp_path / "model.plan").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_present(), reason="needs an NVIDIA GPU and the tensorrt package")
def test_plan_matches_onnxruntime(tiny_export, tmp_path):
    trt = pytest.importorskip("tensorrt")
    import onnxruntime as ort
    import torch

    plan = build_plan(tiny_export / "encoder.onnx", tmp_path / "model.plan", feature_dim=32)
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(plan.read_bytes())
    context = engine.create_execution_context()
    rng = np.random.default_rng(0)
    pixels = rng.standard_normal((3, 3, 448, 448), dtype=np.float32)
    queries = rng.standard_normal((3, 5, 32), dtype=np.float32)
    inputs = {contract.ENC_PIXELS: torch.from_numpy(pixels).cuda(),
              contract.ENC_QUERY: torch.from_numpy(queries).cuda()}
    output = torch.empty((3, 5, 128, 128), dtype=torch.float32, device="cuda")
    for name, tensor in inputs.items():
        context.set_input_shape(name, tuple(tensor.shape))
        context.set_tensor_address(name, tensor.data_ptr())
    context.set_tensor_address(contract.ENC_SIMILARITY, output.data_ptr())
    assert context.execute_async_v3(torch.cuda.current_stream().cuda_stream)
    torch.cuda.synchronize()
    session = ort.InferenceSession(str(tiny_export / "encoder.onnx"), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: queries})
    assert np.abs(output.cpu().numpy() - expected).max() <= 1e-4   # fp32 kernels, TF32 off
