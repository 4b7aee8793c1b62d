"""The gpu target's vision engine: a TensorRT plan of vision.onnx (GPU machines only).

Built by the shared engine builder (services/models/tensorrt.py): the lazy `tensorrt`
import that raises TensorRTUnavailable without a GPU, the explicit-batch ONNX parse.
The one optimisation profile covers every tile batch tokenvl_vision's dynamic batcher can
form: opt = one image's tiles (max_tiles + thumbnail), max = the model's max batch. fp32
(no TF32) by default, so the visual tokens match the ONNX Runtime path.
"""
from __future__ import annotations

from pathlib import Path

from services.models.tensorrt import Shapes, TensorRTUnavailable, build_engine, gpu_present
from services.models.tokenfd.export_tensorrt import Profile
from services.models.tokenvl import config as model_config
from services.models.tokenvl.artifacts import VISION_ONNX_FILE, VISION_PIXELS, VISION_PLAN_FILE

__all__ = ["Profile", "TensorRTUnavailable", "build_vision_plan", "gpu_present", "vision_profile"]


def vision_profile(max_batch_size: int = model_config.VISION_MAX_BATCH_SIZE,
                   max_tiles: int = model_config.DEFAULT_MAX_TILES) -> Profile:
    one_image = model_config.encoder_tiles(max_tiles)
    return Profile(tiles=(1, min(one_image, max_batch_size), max_batch_size), tokens=(0, 0, 0))


def build_vision_plan(export_dir: str | Path, plan_path: str | Path | None = None, *,
                      profile: Profile | None = None, fp16: bool = False,
                      workspace_bytes: int = 4 << 30) -> Path:
    """export_dir/vision.onnx -> a serialized engine (default export_dir/model.plan)."""
    export_dir = Path(export_dir)
    plan_path = Path(plan_path) if plan_path else export_dir / VISION_PLAN_FILE
    profile = profile or vision_profile()
    side = model_config.TILE_SIZE

    def shapes(network) -> Shapes:
        return {VISION_PIXELS: tuple((n, 3, side, side) for n in profile.tiles)}

    return build_engine(export_dir / VISION_ONNX_FILE, plan_path, shapes, fp16=fp16,
                        workspace_bytes=workspace_bytes)
