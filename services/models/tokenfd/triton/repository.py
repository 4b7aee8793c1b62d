"""TokenFD's entries in a Triton model repository, for both targets.

    <out>/                            written by services.triton.repository (with build.json)
      tokenfd_encoder/
        config.pbtxt
        1/model.py + encoder.cpu.onnx cpu: python backend running ONNX Runtime on the cpu graph
                                      (+ external data)
        1/model.plan                  gpu: platform tensorrt_plan
      tokenfd_locate/                 python backend (BLS), same on both targets
        config.pbtxt
        1/model.py, tok_embeddings.npy, tokenizer.model, tokenfd.json
        warmup/image.png, query.txt   run through decode/tile/tokenize at load

`model_entries` describes the two models from an export directory; the generic
builder writes them, beside other families' models when there are any. The sizes
(tile, grid, max tiles, encoder batch) are the model config's.

CLI: python -m services.models.tokenfd.triton.repository --target cpu|gpu --artifacts DIR --out DIR
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tritonclient.grpc import model_config_pb2 as mc

from services.models.tokenfd import config as model_config
from services.models.tokenfd.artifacts import (
    CPU_ONNX_FILE,
    EMBEDDINGS_FILE,
    LOCATE_RESOURCES,
    META_FILE,
    ONNX_FILE,
    PLAN_FILE,
)
from services.models.tokenfd.query_matches import Decoding
from services.models.tokenfd.triton import contract
from services.triton import repository as core
from services.triton.repository import (
    VERSION,
    FamilyEntries,
    ModelEntry,
    Target,
    model_source,
    require,
    set_parameters,
    tensor,
)

FAMILY = "tokenfd"
WARMUP_QUERY = "text"


@dataclass(frozen=True)
class RepositoryOptions:
    """Tuning knobs baked into the configs (docs/triton.md explains each)."""
    # tiles per encoder execution (the encoder's max_batch_size; the TensorRT profile's max)
    encoder_max_batch_size: int = field(default_factory=lambda: model_config.ENCODER_MAX_BATCH_SIZE)
    encoder_queue_delay_us: int | None = None  # None: 2 ms on cpu, 20 ms on gpu
    encoder_max_queue_size: int = 64          # requests waiting; more are rejected (UNAVAILABLE)
    encoder_instances: int = 1
    locate_instances: int = 2                 # concurrent locate requests (each one BLS caller)
    # default and upper bound of MAX_TILES
    max_tiles: int = field(default_factory=lambda: model_config.DEFAULT_MAX_TILES)
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
        if not 1 <= self.max_tiles <= model_config.MAX_TILES_CEILING:
            raise ValueError(f"max_tiles must be in 1..{model_config.MAX_TILES_CEILING}")
        if self.encoder_instances < 1 or self.locate_instances < 1:
            raise ValueError("instance counts must be >= 1")


# --- config messages -------------------------------------------------------------------

def encoder_config(target: Target, dim: int, options: RepositoryOptions | None = None) -> mc.ModelConfig:
    """tokenfd_encoder: batch axis = tiles; cpu = python backend + ORT, gpu = TensorRT plan."""
    options = options or RepositoryOptions()
    config = mc.ModelConfig(name=contract.TOKENFD_ENCODER, max_batch_size=options.encoder_max_batch_size)
    if target is Target.CPU:
        config.backend = "python"
        set_parameters(config, {"onnx_file": CPU_ONNX_FILE, "intra_op_threads": options.ort_intra_op_threads})
        kind = mc.ModelInstanceGroup.KIND_CPU
    else:
        config.platform = "tensorrt_plan"
        config.default_model_filename = PLAN_FILE
        kind = mc.ModelInstanceGroup.KIND_GPU
    T = contract.TILE_SIZE
    G = contract.FEATURE_GRID
    config.input.extend([
        tensor(mc.ModelInput, contract.ENC_PIXELS, mc.TYPE_FP32, [3, T, T]),
        tensor(mc.ModelInput, contract.ENC_QUERY, mc.TYPE_FP32, [-1, dim]),
    ])
    config.output.append(tensor(mc.ModelOutput, contract.ENC_SIMILARITY, mc.TYPE_FP32, [-1, G, G]))
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


def locate_config(options: RepositoryOptions | None = None, model_info: dict | None = None) -> mc.ModelConfig:
    """tokenfd_locate: one request = one image + one query (max_batch_size 0, the contract's
    shapes); concurrency comes from instances, whose encoder calls the encoder's dynamic
    batcher groups."""
    options = options or RepositoryOptions()
    config = mc.ModelConfig(name=contract.TOKENFD_LOCATE, backend="python", max_batch_size=0)
    config.input.extend([
        tensor(mc.ModelInput, contract.LOC_IMAGE, mc.TYPE_STRING, [1]),
        tensor(mc.ModelInput, contract.LOC_QUERY, mc.TYPE_STRING, [1]),
        tensor(mc.ModelInput, contract.LOC_MAX_TILES, mc.TYPE_INT32, [1], optional=True),
        tensor(mc.ModelInput, contract.LOC_SPELL, mc.TYPE_BOOL, [1], optional=True),
    ])
    config.output.extend([
        tensor(mc.ModelOutput, contract.LOC_SIMILARITY, mc.TYPE_FP32, [-1, -1, -1]),
        tensor(mc.ModelOutput, contract.LOC_TOKEN_IDS, mc.TYPE_INT64, [-1]),
        tensor(mc.ModelOutput, contract.LOC_TOKEN_TEXTS, mc.TYPE_STRING, [-1]),
        tensor(mc.ModelOutput, contract.LOC_GRID, mc.TYPE_INT32, [2]),
        tensor(mc.ModelOutput, contract.LOC_NUM_TILES, mc.TYPE_INT32, [1]),
        tensor(mc.ModelOutput, contract.LOC_IMAGE_SIZE, mc.TYPE_INT32, [2]),
        tensor(mc.ModelOutput, contract.LOC_LETTER_SIMILARITY, mc.TYPE_FP32, [-1, -1, -1]),
        tensor(mc.ModelOutput, contract.LOC_LETTER_TEXTS, mc.TYPE_STRING, [-1]),
    ])
    config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU,
                                                       count=options.locate_instances))
    set_parameters(config, {
        "max_tiles": options.max_tiles,
        "encoder_max_batch_size": options.encoder_max_batch_size,
        "pad_query_tokens": options.pad_query_tokens,
        # No model_warmup here: Triton rejects BLS calls ("Server not ready") until every model
        # is loaded, so a warmup request through the encoder cannot succeed. Instead initialize()
        # runs warmup/image.png + warmup/query.txt through everything before the encoder.
        "warmup": options.warmup,
    })
    # Which checkpoint is served: the gateway reports these with every answer and on /v1/models;
    # the threshold the checkpoint records (tokenfd.json) is the gateway's locate default.
    info = model_info or {}
    set_parameters(config, {contract.LOC_MODEL_NAME_PARAMETER: info.get("name", "unknown"),
                            contract.LOC_MODEL_ID_PARAMETER: info.get("model_id", "unknown")})
    if info.get("threshold") is not None:
        set_parameters(config, {contract.LOC_THRESHOLD_PARAMETER: repr(float(info["threshold"]))})
    if info.get("decoding") is not None:
        set_parameters(config, {contract.LOC_DECODING_PARAMETER: json.dumps(info["decoding"], sort_keys=True)})
    return config


# --- files ------------------------------------------------------------------------------

def warmup_image_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 64), "white")
    ImageDraw.Draw(image).text((8, 24), WARMUP_QUERY, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


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


def model_entries(target: Target | str, artifacts: str | os.PathLike, *,
                  options: RepositoryOptions | None = None,
                  plan: str | os.PathLike | None = None) -> FamilyEntries:
    """tokenfd_encoder and tokenfd_locate from an export directory; every input is checked
    here, before anything is written."""
    target = Target(target)
    options = options or RepositoryOptions()
    options.validate()
    artifacts = Path(artifacts).resolve()
    export_hint = "export with services.models.tokenfd.export_onnx"
    for name in LOCATE_RESOURCES:
        require(artifacts / name, export_hint)
    encoder_files: dict[str, Path | bytes] = {}
    if target is Target.CPU:
        engine = require(artifacts / CPU_ONNX_FILE, export_hint)
        encoder_files[f"{VERSION}/model.py"] = model_source(contract.TOKENFD_ENCODER)
        encoder_files[f"{VERSION}/{CPU_ONNX_FILE}"] = engine
        # Weights over 2 GB are saved as external data beside the graph (encoder.cpu.onnx.data).
        for external in sorted(artifacts.glob(f"{CPU_ONNX_FILE}?*")):
            encoder_files[f"{VERSION}/{external.name}"] = external
    else:
        engine = require(Path(plan) if plan else artifacts / PLAN_FILE,
                         "build it on a GPU machine with services.models.tokenfd.export_tensorrt")
        encoder_files[f"{VERSION}/{PLAN_FILE}"] = engine
    dim = embedding_dim(artifacts)

    locate_files: dict[str, Path | bytes] = {f"{VERSION}/model.py": model_source(contract.TOKENFD_LOCATE)}
    locate_files.update({f"{VERSION}/{name}": artifacts / name for name in LOCATE_RESOURCES})
    if options.warmup:
        locate_files[f"{contract.LOC_WARMUP_DIR}/{contract.LOC_WARMUP_IMAGE}"] = warmup_image_png()
        locate_files[f"{contract.LOC_WARMUP_DIR}/{contract.LOC_WARMUP_QUERY}"] = WARMUP_QUERY.encode()
    model_info = json.loads((artifacts / META_FILE).read_text())
    threshold = model_info.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not -1.0 <= threshold <= 1.0):
        raise ValueError(f"{META_FILE} says threshold={threshold!r}: expected a cosine similarity in [-1, 1], "
                         f"or null for none")
    if model_info.get("decoding") is not None:
        try:
            Decoding.from_json(model_info["decoding"])
        except ValueError as exc:
            raise ValueError(f"{META_FILE} says decoding={model_info['decoding']!r}: {exc}") from None
    return FamilyEntries(
        family=FAMILY,
        models=(ModelEntry(encoder_config(target, dim, options), encoder_files),
                ModelEntry(locate_config(options, model_info), locate_files)),
        manifest={"dim": dim, "artifacts": str(artifacts), "engine": str(engine),
                  "options": dataclasses.asdict(options)})


def build_repository(target: Target | str, artifacts: str | os.PathLike, out: str | os.PathLike, *,
                     options: RepositoryOptions | None = None,
                     plan: str | os.PathLike | None = None) -> Path:
    """A repository serving TokenFD alone (what `make models` and the benchmarks build); a
    repository with more families passes every family's entries to core.build_repository."""
    return core.build_repository(out, target, [model_entries(target, artifacts, options=options, plan=plan)])


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
    parser = argparse.ArgumentParser(prog="python -m services.models.tokenfd.triton.repository",
                                     description="Build the TokenFD Triton model repository.")
    parser.add_argument("--target", choices=[t.value for t in Target], default=Target.CPU.value)
    parser.add_argument("--artifacts", type=Path, required=True, help=f"export directory ({ONNX_FILE}, ...)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--plan", type=Path, default=None, help=f"gpu: TensorRT plan (default <artifacts>/{PLAN_FILE})")
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
