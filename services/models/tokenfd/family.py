"""TokenFD as a model family (services/models/family.py): text location, served as
tokenfd_locate (listed and probed) over tokenfd_encoder (probed, internal).

Torch-free at import; `build` imports the export tooling when it runs.
"""
from __future__ import annotations

import argparse

from services.models.family import BuildRequest, BuiltFamily, ModelFamily, ModelTask, TritonModel
from services.models.tokenfd.triton import contract

TINY_NAME = "tokenfd-tiny"
TINY_SEED = 0


def build(request: BuildRequest) -> BuiltFamily:
    """The ONNX export (and, on the gpu target, the TensorRT plan) and the repository entries."""
    from services.models.tokenfd.artifacts import ONNX_FILE, PLAN_FILE
    from services.models.tokenfd.export_onnx import export_artifacts
    from services.models.tokenfd.triton.repository import RepositoryOptions, model_entries
    from services.triton.repository import Target

    options = request.options or RepositoryOptions()
    options.validate()  # before the (slow) export
    from services.models.tokenfd.fixtures import build_tiny_checkpoint

    checkpoint, export_dir = request.checkpoint_and_export(build_tiny_checkpoint, TINY_NAME, TINY_SEED)
    export_artifacts(checkpoint, export_dir)
    plan = None
    if Target(request.target) is Target.GPU:
        from services.models.tokenfd import export_tensorrt

        # The engine's optimisation profile must cover every batch the dynamic batcher can
        # form (up to the encoder's max_batch_size tiles) and every (padded) query length.
        profile = export_tensorrt.encoder_profile(options.encoder_max_batch_size, max_tiles=options.max_tiles)
        request.log(f"building the TensorRT plan (profile {profile}) ...")
        plan = export_tensorrt.build_plan(export_dir / ONNX_FILE, export_dir / PLAN_FILE, profile=profile)
    return BuiltFamily(checkpoint, export_dir, model_entries(request.target, export_dir, options=options, plan=plan))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from services.models.tokenfd.triton.repository import add_option_arguments

    add_option_arguments(parser)


def parse_options(args: argparse.Namespace):
    from services.models.tokenfd.triton.repository import options_from_args

    return options_from_args(args)


FAMILY = ModelFamily(
    name="tokenfd",
    models=(TritonModel(contract.TOKENFD_LOCATE, task=ModelTask.text_location, probed=True),
            TritonModel(contract.TOKENFD_ENCODER, probed=True)),
    build=build,
    add_arguments=add_arguments,
    parse_options=parse_options,
    checkpoint_flag="--checkpoint",
)
