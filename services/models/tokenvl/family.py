"""TokenVL as a model family (services/models/family.py): chat completions and document VQA,
served as tokenvl (the generation contract) over tokenvl_vision (internal).

Neither is probed by `/readyz`: a deployment may serve text location alone, and the chat
model is listed on `/v1/models` only while Triton serves it.
Torch-free at import; `build` imports the export tooling when it runs.
"""
from __future__ import annotations

import argparse

from services.models.family import BuildRequest, BuiltFamily, ModelFamily, ModelTask, TritonModel
from services.triton import generation as contract

TINY_NAME = "tokenvl-tiny"
TINY_SEED = 0
PRECISIONS = ("fp32", "int8", "int4")


def build(request: BuildRequest) -> BuiltFamily:
    """The export (vision ONNX, decoder, embeddings; the vision plan on gpu) and the repository entries.
    fp32 is what the parity tests hold to; int4/int8 decoder weights are faster (docs/tokenvl.md)."""
    from services.models.tokenvl.export import export_artifacts
    from services.models.tokenvl.triton.repository import model_entries
    from services.triton.repository import Target

    precision = request.options or "fp32"
    from services.models.tokenvl.fixtures import build_tiny_checkpoint

    checkpoint, export_dir = request.checkpoint_and_export(build_tiny_checkpoint, TINY_NAME, TINY_SEED)
    export_artifacts(checkpoint, export_dir, precision=precision, log=request.log)
    plan = None
    if Target(request.target) is Target.GPU:
        from services.models.tokenvl import export_tensorrt

        request.log("building the TokenVL vision TensorRT plan ...")
        plan = export_tensorrt.build_vision_plan(export_dir)
    return BuiltFamily(checkpoint, export_dir, model_entries(request.target, export_dir, plan=plan))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tokenvl-precision", choices=PRECISIONS, default="fp32",
                        help="TokenVL decoder weights (fp32: token-for-token parity with transformers)")


def parse_options(args: argparse.Namespace) -> str:
    return args.tokenvl_precision


FAMILY = ModelFamily(
    name="tokenvl",
    models=(TritonModel(contract.TOKENVL_MODEL, task=ModelTask.chat),
            TritonModel(contract.TOKENVL_VISION_MODEL)),
    build=build,
    add_arguments=add_arguments,
    parse_options=parse_options,
    checkpoint_flag="--tokenvl-checkpoint",
)
