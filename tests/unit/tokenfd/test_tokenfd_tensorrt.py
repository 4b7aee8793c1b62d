"""TensorRT engine build from the exported ONNX encoder.

Without an NVIDIA GPU only the refusal is tested; the build and its parity with ONNX
Runtime need a GPU and the tensorrt package (marker `gpu`, skipped otherwise)."""
import numpy as np
import pytest

from services.models.tokenfd import export_tensorrt
from services.models.tokenfd.export_tensorrt import Profile, TensorRTUnavailable, build_plan, gpu_present
from services.triton import contract


def test_profile_covers_a_request_and_long_queries():
    profile = Profile()
    assert profile.tiles == (1, 4, 13)       # 12 tiles + thumbnail
    assert profile.tokens == (1, 8, 64)


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
    inputs = {contract.ENC_PIXELS: torch.from_numpy(pixels).cuda(), contract.ENC_QUERY: torch.from_numpy(queries).cuda()}
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
