"""`make models`: build the embedded default TokenFD and its Triton model repository.

    <out>/checkpoints/tokenfd-tiny     the tiny seeded checkpoint (plumbing only, not a real model)
    <out>/export/<name>                encoder.onnx, tok_embeddings.npy, tokenizer.model, tokenfd.json
    <out>/model_repository             what the launcher serves

`--checkpoint DIR` builds from an official checkpoint in a local directory instead
(its upstream layout), `--target gpu` builds the TensorRT target (on a GPU machine).

    python -m services.models.build_default --out artifacts
    python -m services.models.build_default --out artifacts --checkpoint ~/TokenFD_2048_Bilingual_seg
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from services.models.tokenfd.artifacts import ONNX_FILE, PLAN_FILE
from services.models.tokenfd.triton.repository import (RepositoryOptions, add_option_arguments, build_repository,
                                                       options_from_args)
from services.triton.repository import Target

TINY_NAME = "tokenfd-tiny"
TINY_SEED = 0


@dataclass(frozen=True)
class BuiltDefault:
    checkpoint: Path
    export: Path
    repository: Path


def build_default(out: str | Path, *, checkpoint: str | Path | None = None, target: Target | str = Target.CPU,
                  options: RepositoryOptions | None = None, log=print) -> BuiltDefault:
    from services.models.tokenfd.export_onnx import export_artifacts

    out = Path(out)
    target = Target(target)
    options = options or RepositoryOptions()
    if target is Target.GPU:
        from services.models.tokenfd.export_tensorrt import TensorRTUnavailable, gpu_present

        if not gpu_present():  # fail before the (slow) export, not after it
            raise TensorRTUnavailable("the gpu target builds a TensorRT plan, which needs an NVIDIA GPU; "
                                      "none found (build the cpu target, or run this on a GPU machine)")
    if checkpoint is None:
        from services.models.tokenfd.fixtures import build_tiny_checkpoint

        log(f"building the tiny seeded checkpoint (seed {TINY_SEED}) ...")
        checkpoint = Path(build_tiny_checkpoint(out / "checkpoints" / TINY_NAME, seed=TINY_SEED))
        name = TINY_NAME
    else:
        checkpoint = Path(checkpoint).expanduser()
        if not checkpoint.is_dir():
            raise FileNotFoundError(f"checkpoint directory {checkpoint} does not exist")
        name = checkpoint.name
    export_dir = out / "export" / name
    log(f"exporting {checkpoint} to {export_dir} ...")
    export_artifacts(checkpoint, export_dir)
    plan = None
    if target is Target.GPU:
        from services.models.tokenfd import export_tensorrt

        # The engine's optimisation profile must cover every batch the dynamic batcher can
        # form (up to the encoder's max_batch_size tiles) and every (padded) query length.
        profile = export_tensorrt.encoder_profile(options.encoder_max_batch_size, max_tiles=options.max_tiles)
        log(f"building the TensorRT plan (profile {profile}) ...")
        plan = export_tensorrt.build_plan(export_dir / ONNX_FILE, export_dir / PLAN_FILE, profile=profile)
    repository = build_repository(target, export_dir, out / "model_repository", options=options, plan=plan)
    log(f"model repository ({target.value}): {repository}")
    return BuiltDefault(checkpoint=checkpoint, export=export_dir, repository=repository)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.models.build_default", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("artifacts"))
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="official TokenFD checkpoint directory (default: build the tiny seeded one)")
    parser.add_argument("--target", choices=[t.value for t in Target], default=Target.CPU.value)
    add_option_arguments(parser)
    args = parser.parse_args(argv)
    from services.models.tokenfd.export_tensorrt import TensorRTUnavailable

    try:
        build_default(args.out, checkpoint=args.checkpoint, target=args.target, options=options_from_args(args))
    except (FileNotFoundError, FileExistsError, ValueError, TensorRTUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
