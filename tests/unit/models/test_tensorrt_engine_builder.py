"""The shared TensorRT engine builder, driven through each model's profile.

TensorRT needs an NVIDIA GPU, which this machine lacks, so `tensorrt` is replaced by a
recording stand-in (a test double for what cannot run here): the test checks which
shapes each model's engine profile is given and what reaches the plan file, not TensorRT.
The real build runs in tests/unit/*/test_*_tensorrt.py on a GPU machine."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.models import tensorrt
from services.models.tokenfd import config as tokenfd_config
from services.models.tokenfd.export_tensorrt import build_plan, encoder_profile
from services.models.tokenfd.triton import contract
from services.models.tokenvl import config as tokenvl_config
from services.models.tokenvl.artifacts import VISION_PIXELS, VISION_PLAN_FILE
from services.models.tokenvl.export_tensorrt import build_vision_plan, vision_profile


class RecordingTensorRT:
    """Records the profile and flags; 'serializes' to fixed bytes."""

    def __init__(self, query_width: int = 0) -> None:
        self.shapes, self.flags_cleared, self.flags_set = {}, [], []
        recorder = self
        self.Logger = type("Logger", (), {"WARNING": 0, "__init__": lambda self, level: None})
        self.NetworkDefinitionCreationFlag = SimpleNamespace()
        self.BuilderFlag = SimpleNamespace(FP16="FP16", TF32="TF32")
        self.MemoryPoolType = SimpleNamespace(WORKSPACE="WORKSPACE")
        query = SimpleNamespace(name=contract.ENC_QUERY, shape=(-1, -1, query_width))
        network = SimpleNamespace(num_inputs=1, get_input=lambda i: query)

        class Profile:
            def set_shape(self, name, low, opt, high):
                recorder.shapes[name] = (low, opt, high)

        class BuildConfig:
            def set_memory_pool_limit(self, pool, size): pass
            def set_flag(self, flag): recorder.flags_set.append(flag)
            def clear_flag(self, flag): recorder.flags_cleared.append(flag)
            def add_optimization_profile(self, profile): pass

        class Builder:
            def __init__(self, logger): pass
            def create_network(self, flags): return network
            def create_builder_config(self): return BuildConfig()
            def create_optimization_profile(self): return Profile()
            def build_serialized_network(self, network, build_config): return b"engine"

        self.Builder = Builder
        self.OnnxParser = lambda network, logger: SimpleNamespace(parse_from_file=lambda path: True)


@pytest.fixture
def fake_tensorrt(monkeypatch):
    fake = RecordingTensorRT(query_width=1024)
    monkeypatch.setattr(tensorrt, "import_tensorrt", lambda: fake)
    return fake


def test_tokenfd_engine_profile_covers_the_encoder_batches_and_reads_the_query_width(fake_tensorrt, tmp_path):
    plan = build_plan(tmp_path / "model.onnx", tmp_path / "model.plan")
    profile, side = encoder_profile(), tokenfd_config.TILE_SIZE
    assert plan.read_bytes() == b"engine"
    assert fake_tensorrt.shapes[contract.ENC_PIXELS] == tuple((n, 3, side, side) for n in profile.tiles)
    assert fake_tensorrt.shapes[contract.ENC_QUERY] == tuple((n, t, 1024)
                                                            for n, t in zip(profile.tiles, profile.tokens, strict=True))
    assert fake_tensorrt.flags_cleared == ["TF32"] and fake_tensorrt.flags_set == []


def test_tokenvl_vision_engine_profile_covers_its_batcher(fake_tensorrt, tmp_path):
    plan = build_vision_plan(tmp_path)
    profile, side = vision_profile(), tokenvl_config.TILE_SIZE
    assert plan == tmp_path / VISION_PLAN_FILE and plan.read_bytes() == b"engine"
    assert fake_tensorrt.shapes == {VISION_PIXELS: tuple((n, 3, side, side) for n in profile.tiles)}
    assert profile.tiles[-1] == tokenvl_config.VISION_MAX_BATCH_SIZE


def test_without_a_gpu_the_build_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorrt, "gpu_present", lambda: False)
    with pytest.raises(tensorrt.TensorRTUnavailable, match="no GPU found"):
        build_vision_plan(tmp_path)
