"""The one builder of the TokenFD Triton model repository, for both targets.

    <out>/
      build.json                      what was built, from what (not read by Triton)
      tokenfd_encoder/
        config.pbtxt
        1/model.py + encoder.onnx     cpu: python backend running ONNX Runtime (+ external data)
        1/model.plan                  gpu: platform tensorrt_plan
      tokenfd_locate/                 python backend (BLS), same on both targets
        config.pbtxt
        1/model.py, tok_embeddings.npy, tokenizer.model, tokenfd.json
        warmup/image.png, query.txt   run through decode/tile/tokenize at load

Configs are protobuf messages of Triton's own schema (tritonclient's
model_config_pb2) rendered to text format, so a field the server would reject fails
here, at build time. Model sources come from the repository's model_repository/ dir.

CLI: python -m services.triton.repository --target cpu|gpu --artifacts DIR --out DIR
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from services.triton import contract

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_SOURCES = REPO_ROOT / "model_repository"
MANIFEST = "build.json"
VERSION = "1"

# Export artifact names (services.models.tokenfd.export_onnx / export_tensorrt).
ONNX_FILE = "encoder.onnx"
PLAN_FILE = "model.plan"
EMBEDDINGS_FILE = "tok_embeddings.npy"
TOKENIZER_FILE = "tokenizer.model"
META_FILE = "tokenfd.json"
LOCATE_RESOURCES = (EMBEDDINGS_FILE, TOKENIZER_FILE, META_FILE)

WARMUP_QUERY = "text"


class Target(str, Enum):
    CPU = "cpu"
    GPU = "gpu"


@dataclass(frozen=True)
class RepositoryOptions:
    """Tuning knobs baked into the configs (docs/triton.md explains each)."""
    encoder_max_batch_size: int = 16          # tiles per encoder execution
    encoder_queue_delay_us: int | None = None  # None: 2 ms on cpu, 20 ms on gpu
    encoder_max_queue_size: int = 64          # requests waiting; more are rejected (UNAVAILABLE)
    encoder_instances: int = 1
    locate_instances: int = 2                 # concurrent locate requests (each one BLS caller)
    max_tiles: int = 12                       # default and upper bound of MAX_TILES
    ort_intra_op_threads: int = 0             # cpu: 0 = one per core
    pad_query_tokens: bool = True             # pad T to a power of two so more requests batch together
    warmup: bool = True

    def queue_delay_us(self, target: Target) -> int:
        if self.encoder_queue_delay_us is not None:
            return self.encoder_queue_delay_us
        return 2_000 if target is Target.CPU else 20_000

    def validate(self) -> None:
        if self.encoder_max_batch_size < 1:
            raise ValueError("encoder_max_batch_size must be >= 1")
        if not 1 <= self.max_tiles <= 40:
            raise ValueError("max_tiles must be in 1..40")
        if self.encoder_instances < 1 or self.locate_instances < 1:
            raise ValueError("instance counts must be >= 1")


# --- config messages -------------------------------------------------------------------

def _tensor(cls, name: str, data_type: int, dims, *, optional: bool = False):
    message = cls(name=name, data_type=data_type, dims=list(dims))
    if optional:
        message.optional = True
    return message


def _parameters(config: mc.ModelConfig, values: dict[str, object]) -> None:
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        config.parameters[key].string_value = str(value)


def encoder_config(target: Target, dim: int, options: RepositoryOptions = RepositoryOptions()) -> mc.ModelConfig:
    """tokenfd_encoder: batch axis = tiles; cpu = python backend + ORT, gpu = TensorRT plan."""
    config = mc.ModelConfig(name=contract.TOKENFD_ENCODER, max_batch_size=options.encoder_max_batch_size)
    if target is Target.CPU:
        config.backend = "python"
        _parameters(config, {"onnx_file": ONNX_FILE, "intra_op_threads": options.ort_intra_op_threads})
        kind = mc.ModelInstanceGroup.KIND_CPU
    else:
        config.platform = "tensorrt_plan"
        config.default_model_filename = PLAN_FILE
        kind = mc.ModelInstanceGroup.KIND_GPU
    T = contract.TILE_SIZE
    G = contract.FEATURE_GRID
    config.input.extend([
        _tensor(mc.ModelInput, contract.ENC_PIXELS, mc.TYPE_FP32, [3, T, T]),
        _tensor(mc.ModelInput, contract.ENC_QUERY, mc.TYPE_FP32, [-1, dim]),
    ])
    config.output.append(_tensor(mc.ModelOutput, contract.ENC_SIMILARITY, mc.TYPE_FP32, [-1, G, G]))
    batching = config.dynamic_batching
    batching.max_queue_delay_microseconds = options.queue_delay_us(target)
    batching.default_queue_policy.max_queue_size = options.encoder_max_queue_size
    batching.default_queue_policy.timeout_action = mc.ModelQueuePolicy.REJECT
    config.instance_group.append(mc.ModelInstanceGroup(kind=kind, count=options.encoder_instances))
    if options.warmup:
        # One zero tile with one query token: loads the weights and builds the kernels; the
        # server is not READY before it ran. Random query data avoids a 0/0 cosine.
        sample = config.model_warmup.add(name="one_tile", batch_size=1)
        sample.inputs[contract.ENC_PIXELS].CopyFrom(
            mc.ModelWarmup.Input(data_type=mc.TYPE_FP32, dims=[3, T, T], zero_data=True))
        sample.inputs[contract.ENC_QUERY].CopyFrom(
            mc.ModelWarmup.Input(data_type=mc.TYPE_FP32, dims=[1, dim], random_data=True))
    return config


def locate_config(options: RepositoryOptions = RepositoryOptions(),
                  model_info: dict | None = None) -> mc.ModelConfig:
    """tokenfd_locate: one request = one image + one query (max_batch_size 0, the contract's
    shapes); concurrency comes from instances, whose encoder calls the encoder's dynamic
    batcher groups."""
    config = mc.ModelConfig(name=contract.TOKENFD_LOCATE, backend="python", max_batch_size=0)
    config.input.extend([
        _tensor(mc.ModelInput, contract.LOC_IMAGE, mc.TYPE_STRING, [1]),
        _tensor(mc.ModelInput, contract.LOC_QUERY, mc.TYPE_STRING, [1]),
        _tensor(mc.ModelInput, contract.LOC_MAX_TILES, mc.TYPE_INT32, [1], optional=True),
    ])
    config.output.extend([
        _tensor(mc.ModelOutput, contract.LOC_SIMILARITY, mc.TYPE_FP32, [-1, -1, -1]),
        _tensor(mc.ModelOutput, contract.LOC_TOKEN_IDS, mc.TYPE_INT64, [-1]),
        _tensor(mc.ModelOutput, contract.LOC_TOKEN_TEXTS, mc.TYPE_STRING, [-1]),
        _tensor(mc.ModelOutput, contract.LOC_GRID, mc.TYPE_INT32, [2]),
        _tensor(mc.ModelOutput, contract.LOC_NUM_TILES, mc.TYPE_INT32, [1]),
        _tensor(mc.ModelOutput, contract.LOC_IMAGE_SIZE, mc.TYPE_INT32, [2]),
    ])
    config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU,
                                                       count=options.locate_instances))
    _parameters(config, {
        "max_tiles": options.max_tiles,
        "encoder_max_batch_size": options.encoder_max_batch_size,
        "pad_query_tokens": options.pad_query_tokens,
        # No model_warmup here: Triton rejects BLS calls ("Server not ready") until every model
        # is loaded, so a warmup request through the encoder cannot succeed. Instead initialize()
        # runs warmup/image.png + warmup/query.txt through everything before the encoder.
        "warmup": options.warmup,
    })
    # Which checkpoint is served: the gateway reports these with every answer and on /v1/models.
    info = model_info or {}
    _parameters(config, {"model_name": info.get("name", "unknown"), "model_id": info.get("model_id", "unknown")})
    return config


def render(config: mc.ModelConfig) -> str:
    return text_format.MessageToString(config)


def parse(text: str) -> mc.ModelConfig:
    return text_format.Parse(text, mc.ModelConfig())


# --- files ------------------------------------------------------------------------------

def warmup_image_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 64), "white")
    ImageDraw.Draw(image).text((8, 24), WARMUP_QUERY, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link big artifacts when possible (a 4096-d embedding table is 1.5 GB)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def embedding_dim(artifacts: Path) -> int:
    """D, from the embedding table's header (memory-mapped, not read)."""
    table = np.load(artifacts / EMBEDDINGS_FILE, mmap_mode="r")
    if table.ndim != 2:
        raise ValueError(f"{EMBEDDINGS_FILE} must be (vocab, D), got {table.shape}")
    dim = int(table.shape[1])
    meta_path = artifacts / META_FILE
    if meta_path.exists():
        declared = json.loads(meta_path.read_text()).get("D")
        if declared is not None and int(declared) != dim:
            raise ValueError(f"{META_FILE} says D={declared} but {EMBEDDINGS_FILE} has D={dim}")
    return dim


def _require(path: Path, hint: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing ({hint})")
    return path


def build_repository(target: Target | str, artifacts: str | os.PathLike, out: str | os.PathLike, *,
                     options: RepositoryOptions = RepositoryOptions(),
                     plan: str | os.PathLike | None = None) -> Path:
    """Build the model repository for `target` from an export directory into `out`.

    The repository is assembled next to `out` and swapped in at the end, so a failed
    build never leaves a half-written repository behind."""
    target = Target(target)
    options.validate()
    artifacts = Path(artifacts).resolve()
    out = Path(out).resolve()
    export_hint = "export with services.models.tokenfd.export_onnx"
    for name in LOCATE_RESOURCES:
        _require(artifacts / name, export_hint)
    if target is Target.CPU:
        engine = _require(artifacts / ONNX_FILE, export_hint)
    else:
        engine = _require(Path(plan) if plan else artifacts / PLAN_FILE,
                          "build it on a GPU machine with services.models.tokenfd.export_tensorrt")
    dim = embedding_dim(artifacts)

    if out.exists() and not (out / MANIFEST).exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not a repository built here; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        encoder_dir = staging / contract.TOKENFD_ENCODER
        encoder_version = encoder_dir / VERSION
        encoder_version.mkdir(parents=True)
        (encoder_dir / "config.pbtxt").write_text(render(encoder_config(target, dim, options)))
        if target is Target.CPU:
            shutil.copy2(MODEL_SOURCES / contract.TOKENFD_ENCODER / "model.py", encoder_version / "model.py")
            _link_or_copy(engine, encoder_version / ONNX_FILE)
            # Weights over 2 GB are saved as external data beside the graph (encoder.onnx.data).
            for external in sorted(artifacts.glob(f"{ONNX_FILE}?*")):
                _link_or_copy(external, encoder_version / external.name)
        else:
            _link_or_copy(engine, encoder_version / PLAN_FILE)

        locate_dir = staging / contract.TOKENFD_LOCATE
        locate_version = locate_dir / VERSION
        locate_version.mkdir(parents=True)
        model_info = json.loads((artifacts / META_FILE).read_text())
        (locate_dir / "config.pbtxt").write_text(render(locate_config(options, model_info)))
        shutil.copy2(MODEL_SOURCES / contract.TOKENFD_LOCATE / "model.py", locate_version / "model.py")
        for name in LOCATE_RESOURCES:
            _link_or_copy(artifacts / name, locate_version / name)
        if options.warmup:
            warmup = locate_dir / "warmup"
            warmup.mkdir()
            (warmup / "image.png").write_bytes(warmup_image_png())
            (warmup / "query.txt").write_text(WARMUP_QUERY)

        manifest = {"target": target.value, "dim": dim, "artifacts": str(artifacts),
                    "engine": str(engine), "options": dataclasses.asdict(options)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


# --- CLI --------------------------------------------------------------------------------

def options_from_args(args: argparse.Namespace) -> RepositoryOptions:
    return RepositoryOptions(
        encoder_max_batch_size=args.encoder_max_batch_size,
        encoder_queue_delay_us=args.encoder_queue_delay_us,
        encoder_max_queue_size=args.encoder_max_queue_size,
        encoder_instances=args.encoder_instances,
        locate_instances=args.locate_instances,
        max_tiles=args.max_tiles,
        ort_intra_op_threads=args.ort_threads,
        pad_query_tokens=not args.no_query_padding,
        warmup=not args.no_warmup,
    )


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = RepositoryOptions()
    parser.add_argument("--encoder-max-batch-size", type=int, default=defaults.encoder_max_batch_size)
    parser.add_argument("--encoder-queue-delay-us", type=int, default=None,
                        help="dynamic-batching delay (default 2000 on cpu, 20000 on gpu)")
    parser.add_argument("--encoder-max-queue-size", type=int, default=defaults.encoder_max_queue_size)
    parser.add_argument("--encoder-instances", type=int, default=defaults.encoder_instances)
    parser.add_argument("--locate-instances", type=int, default=defaults.locate_instances)
    parser.add_argument("--max-tiles", type=int, default=defaults.max_tiles)
    parser.add_argument("--ort-threads", type=int, default=defaults.ort_intra_op_threads,
                        help="ONNX Runtime intra-op threads on cpu (0 = one per core)")
    parser.add_argument("--no-query-padding", action="store_true")
    parser.add_argument("--no-warmup", action="store_true")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.triton.repository",
                                     description="Build the TokenFD Triton model repository.")
    parser.add_argument("--target", choices=[t.value for t in Target], default=Target.CPU.value)
    parser.add_argument("--artifacts", type=Path, required=True, help="export directory (encoder.onnx, ...)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plan", type=Path, default=None, help="gpu: TensorRT plan (default <artifacts>/model.plan)")
    add_option_arguments(parser)
    args = parser.parse_args(argv)
    try:
        out = build_repository(args.target, args.artifacts, args.out, options=options_from_args(args),
                               plan=args.plan)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
