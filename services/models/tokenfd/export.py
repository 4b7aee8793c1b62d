"""CLI: export a TokenFD checkpoint directory (upstream layout) for serving.

    python -m services.models.tokenfd.export --checkpoint DIR --out DIR [--tensorrt PLAN]
    python -m services.models.tokenfd.export --tiny DIR --out DIR     # seeded fixture first

Writes encoder.onnx, encoder.cpu.onnx, tok_embeddings.npy, tokenizer.model and tokenfd.json to --out;
with --tensorrt also a TensorRT plan (GPU machines only; exits non-zero otherwise).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.models.tokenfd.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="upstream checkpoint directory")
    source.add_argument("--tiny", type=Path, metavar="DIR",
                        help="build the seeded tiny checkpoint in DIR first and export that")
    parser.add_argument("--size", default="tiny", help="named config for --tiny (tiny, bench)")
    parser.add_argument("--seed", type=int, default=0, help="seed for --tiny")
    parser.add_argument("--out", type=Path, required=True, help="output directory for the artefacts")
    parser.add_argument("--tensorrt", type=Path, metavar="PLAN", help="also build a TensorRT plan here")
    parser.add_argument("--int8", type=Path, metavar="ONNX", help="also write a dynamic-int8 ONNX here")
    args = parser.parse_args(argv)

    from services.models.tokenfd.config import CheckpointError
    from services.models.tokenfd.export_tensorrt import TensorRTUnavailable, build_plan, gpu_present

    if args.tensorrt and not gpu_present():
        # fail before the (possibly long) ONNX export
        print("error: TensorRT needs an NVIDIA GPU and the tensorrt package; no GPU found", file=sys.stderr)
        return 3
    from services.models.tokenfd.export_onnx import export_artifacts, quantize_int8

    try:
        checkpoint = args.checkpoint
        if args.tiny is not None:
            from services.models.tokenfd.fixtures import build_tiny_checkpoint

            checkpoint = build_tiny_checkpoint(args.tiny, seed=args.seed, size=args.size)
        exported = export_artifacts(checkpoint, args.out)
        if args.int8:
            quantize_int8(exported.onnx, args.int8)
        if args.tensorrt:
            build_plan(exported.onnx, args.tensorrt, feature_dim=exported.metadata["D"])
    except TensorRTUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (FileNotFoundError, CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(exported.directory), **exported.metadata}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
