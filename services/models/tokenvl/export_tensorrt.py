"""The gpu target's vision engine: a TensorRT plan of vision.onnx (GPU machines only).

TokenFD's tooling (services/models/tokenfd/export_tensorrt.py): the same lazy `tensorrt`
import that raises TensorRTUnavailable without a GPU, the same explicit-batch ONNX parse.
The one optimisation profile covers every tile batch tokenvl_vision's dynamic batcher can
form: opt = one image's tiles (max_tiles + thumbnail), max = the model's max batch. fp32
(no TF32) by default, so the visual tokens match the ONNX Runtime path.
"""
from __future__ import annotations

from pathlib import Path

from services.models.tokenfd.export_tensorrt import Profile, TensorRTUnavailable, _import_tensorrt, gpu_present
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
    trt = _import_tensorrt()
    export_dir = Path(export_dir)
    onnx_path = export_dir / VISION_ONNX_FILE
    plan_path = Path(plan_path) if plan_path else export_dir / VISION_PLAN_FILE
    profile = profile or vision_profile()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    if hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH"):
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "\n".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}:\n{errors}")
    builder_config = builder.create_builder_config()
    builder_config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if fp16:
        builder_config.set_flag(trt.BuilderFlag.FP16)
    elif hasattr(trt.BuilderFlag, "TF32"):
        builder_config.clear_flag(trt.BuilderFlag.TF32)
    side = model_config.TILE_SIZE
    shapes = builder.create_optimization_profile()
    shapes.set_shape(VISION_PIXELS, *[(n, 3, side, side) for n in profile.tiles])
    builder_config.add_optimization_profile(shapes)
    serialized = builder.build_serialized_network(network, builder_config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}")
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_bytes(bytes(serialized))
    return plan_path
