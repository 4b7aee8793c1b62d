"""`make models`: build the embedded default TokenFD and TokenVL and their Triton model repository.

    <out>/checkpoints/tokenfd-tiny     the tiny seeded checkpoint (plumbing only, not a real model)
    <out>/checkpoints/tokenvl-tiny     the tiny seeded TokenVL checkpoint (plumbing only)
    <out>/export/<name>                encoder.onnx, encoder.cpu.onnx, tok_embeddings.npy, tokenizer.model,
                                       tokenfd.json
                                       / vision.onnx, decoder/, embed_tokens.npy, tokenizer.json, tokenvl.json
    <out>/model_repository             what the launcher serves (tokenfd_* and tokenvl*)

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
from services.models.tokenfd.triton.repository import (RepositoryOptions, add_option_arguments, model_entries,
                                                       options_from_args)
from services.triton import repository as core
from services.triton.repository import Target

TINY_NAME = "tokenfd-tiny"
TINY_SEED = 0
TOKENVL_TINY_NAME = "tokenvl-tiny"


@dataclass(frozen=True)
class BuiltDefault:
    checkpoint: Path
    export: Path
    repository: Path
    tokenvl_checkpoint: Path | None = None
    tokenvl_export: Path | None = None


def build_tokenvl(out: Path, target: Target, *, checkpoint: str | Path | None = None, precision: str = "fp32",
                  log=print):
    """TokenVL's export (the tiny seeded checkpoint unless one is given) and its repository entries.
    fp32 is what the parity tests hold to; int4/int8 decoder weights are faster (docs/tokenvl.md)."""
    from services.models.tokenvl.export import export_artifacts
    from services.models.tokenvl.triton import repository as tokenvl_repository

    if checkpoint is None:
        from services.models.tokenvl.fixtures import build_tiny_checkpoint

        log(f"building the tiny seeded TokenVL checkpoint (seed {TINY_SEED}) ...")
        checkpoint = build_tiny_checkpoint(out / "checkpoints" / TOKENVL_TINY_NAME, seed=TINY_SEED)
    checkpoint = Path(checkpoint).expanduser()
    export_dir = out / "export" / checkpoint.name
    log(f"exporting {checkpoint} to {export_dir} ...")
    export_artifacts(checkpoint, export_dir, precision=precision, log=log)
    plan = None
    if target is Target.GPU:
        from services.models.tokenvl import export_tensorrt

        log("building the TokenVL vision TensorRT plan ...")
        plan = export_tensorrt.build_vision_plan(export_dir)
    return checkpoint, export_dir, tokenvl_repository.model_entries(target, export_dir, plan=plan)


def build_default(out: str | Path, *, checkpoint: str | Path | None = None, target: Target | str = Target.CPU,
                  options: RepositoryOptions | None = None, tokenvl_checkpoint: str | Path | None = None,
                  tokenvl: bool = True, tokenvl_precision: str = "fp32", log=print) -> BuiltDefault:
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
    families = [model_entries(target, export_dir, options=options, plan=plan)]
    tokenvl_export = None
    if tokenvl:
        tokenvl_checkpoint, tokenvl_export, entries = build_tokenvl(
            out, target, checkpoint=tokenvl_checkpoint, precision=tokenvl_precision, log=log)
        families.append(entries)
    repository = core.build_repository(out / "model_repository", target, families)
    log(f"model repository ({target.value}): {repository}")
    return BuiltDefault(checkpoint=checkpoint, export=export_dir, repository=repository,
                        tokenvl_checkpoint=Path(tokenvl_checkpoint) if tokenvl else None,
                        tokenvl_export=tokenvl_export)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.models.build_default", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("artifacts"))
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="official TokenFD checkpoint directory (default: build the tiny seeded one)")
    parser.add_argument("--target", choices=[t.value for t in Target], default=Target.CPU.value)
    parser.add_argument("--tokenvl-checkpoint", type=Path, default=None,
                        help="TokenVL checkpoint directory, upstream layout (default: build the tiny seeded one)")
    parser.add_argument("--tokenvl-precision", choices=("fp32", "int8", "int4"), default="fp32",
                        help="TokenVL decoder weights (fp32: token-for-token parity with transformers)")
    parser.add_argument("--no-tokenvl", action="store_true", help="build TokenFD only")
    add_option_arguments(parser)
    args = parser.parse_args(argv)
    from services.models.tokenfd.export_tensorrt import TensorRTUnavailable

    try:
        build_default(args.out, checkpoint=args.checkpoint, target=args.target, options=options_from_args(args),
                      tokenvl_checkpoint=args.tokenvl_checkpoint, tokenvl=not args.no_tokenvl,
                      tokenvl_precision=args.tokenvl_precision)
    except (FileNotFoundError, FileExistsError, ValueError, TensorRTUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
