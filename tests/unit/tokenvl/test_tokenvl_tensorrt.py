"""The gpu target: tokenvl_vision is a TensorRT engine of vision.onnx.

Without an NVIDIA GPU only the repository's gpu entries and the build's refusal are tested;
building the engine and its parity with ONNX Runtime need a GPU and the tensorrt package
(marker `gpu`, skipped otherwise)."""
import numpy as np
import pytest

from services.models.tokenfd import export_tensorrt as tokenfd_tensorrt
from services.models.tokenvl import config as model_config
from services.models.tokenvl.artifacts import VISION_FEATURES, VISION_ONNX_FILE, VISION_PIXELS
from services.models.tokenvl.export_tensorrt import TensorRTUnavailable, build_vision_plan, gpu_present, vision_profile
from services.models.tokenvl.triton.repository import RepositoryOptions, model_entries, vision_config
from services.triton import generation as contract
from services.triton.repository import Target


def test_the_profile_covers_every_batch_of_the_vision_model():
    config = vision_config(Target.GPU, 64, RepositoryOptions())
    assert vision_profile().tiles == (1, model_config.DEFAULT_MAX_TILES + 1, config.max_batch_size)


def test_the_gpu_target_serves_the_plan_with_tensorrt(tokenfd_artifacts, tmp_path):
    plan = tmp_path / "model.plan"
    plan.write_bytes(b"engine bytes")   # the repository writer only places it
    entries = {e.name: e for e in model_entries(Target.GPU, tokenfd_artifacts.tokenvl_export, plan=plan).models}
    vision = entries[contract.TOKENVL_VISION_MODEL]
    assert vision.config.platform == "tensorrt_plan" and vision.config.default_model_filename == "model.plan"
    assert set(vision.files) == {"1/model.plan"}
    assert not any(name.endswith(VISION_ONNX_FILE) for name in vision.files)
    assert entries[contract.TOKENVL_MODEL].config.backend == "python"   # the BLS model is the same on both


def test_without_a_gpu_the_plan_build_refuses_clearly(tokenfd_artifacts, tmp_path, monkeypatch):
    monkeypatch.setattr(tokenfd_tensorrt, "gpu_present", lambda: False)
    with pytest.raises(TensorRTUnavailable, match="TensorRT needs an NVIDIA GPU"):
        build_vision_plan(tokenfd_artifacts.tokenvl_export, tmp_path / "model.plan")
    assert not (tmp_path / "model.plan").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_present(), reason="needs an NVIDIA GPU and the tensorrt package")
def test_plan_matches_onnxruntime(tokenfd_artifacts, tmp_path):
    trt = pytest.importorskip("tensorrt")
    import onnxruntime as ort
    import torch

    export = tokenfd_artifacts.tokenvl_export
    plan = build_vision_plan(export, tmp_path / "model.plan")
    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(plan.read_bytes())
    context = engine.create_execution_context()
    pixels = np.random.default_rng(0).standard_normal((3, 3, 448, 448), dtype=np.float32)
    session = ort.InferenceSession(str(export / VISION_ONNX_FILE), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {VISION_PIXELS: pixels})
    source = torch.from_numpy(pixels).cuda()
    output = torch.empty(expected.shape, dtype=torch.float32, device="cuda")
    context.set_input_shape(VISION_PIXELS, tuple(source.shape))
    context.set_tensor_address(VISION_PIXELS, source.data_ptr())
    context.set_tensor_address(VISION_FEATURES, output.data_ptr())
    assert context.execute_async_v3(torch.cuda.current_stream().cuda_stream)
    torch.cuda.synchronize()
    assert np.abs(output.cpu().numpy() - expected).max() <= 1e-4   # fp32 kernels, TF32 off
