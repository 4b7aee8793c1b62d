"""TokenVL's entries in a Triton model repository, for both targets.

    tokenvl_vision/                    the vision encoder (tiles -> visual tokens), dynamic batching
      1/model.py + vision.onnx         cpu: python backend running ONNX Runtime
      1/model.plan                     gpu: platform tensorrt_plan (export_tensorrt.py)
    tokenvl/                           the decoupled generation model (python, BLS), same on both
      config.pbtxt                     the generation contract (services/triton/generation.py) and
                                       parameters context_length, max_images, model_id, ...
      1/model.py, tokenizer.json, tokenvl.json, embed_tokens.npy, decoder/...

`model_entries` describes them from an export directory (export.py); the generic builder
(services.triton.repository) writes them beside other families' models. Another family serving a
TokenVL-shaped checkpoint (CodePercept-mini) gets the same two models under its own names
(`ServedNames`): the generation model's `vision_model` parameter names its vision model.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tritonclient.grpc import model_config_pb2 as mc

from services.models.tokenvl import config as model_config
from services.models.tokenvl.artifacts import (
    CODE_GUARD_PARAMETER,
    DECODER_DIR,
    EMBEDDINGS_FILE,
    META_FILE,
    STREAM_INTERVAL_PARAMETER,
    TOKEN_IDS,
    TOKENIZER_FILE,
    VISION_FEATURES,
    VISION_MODEL_PARAMETER,
    VISION_ONNX_FILE,
    VISION_PIXELS,
    VISION_PLAN_FILE,
)
from services.models.tokenvl.triton.code_guard import GuardRules
from services.triton import generation as contract
from services.triton.repository import (
    VERSION,
    FamilyEntries,
    ModelEntry,
    Target,
    apply_contract,
    model_source,
    require,
    set_parameters,
    tensor,
)

FAMILY = "tokenvl"


@dataclass(frozen=True)
class ServedNames:
    """The family and the Triton names of its generation model and vision encoder."""
    family: str = FAMILY
    generation: str = contract.TOKENVL_MODEL
    vision: str = contract.TOKENVL_VISION_MODEL


@dataclass(frozen=True)
class RepositoryOptions:
    context_length: int = model_config.DEFAULT_CONTEXT_LENGTH
    max_images: int = model_config.DEFAULT_MAX_IMAGES
    max_tiles: int = model_config.DEFAULT_MAX_TILES
    default_max_tokens: int = model_config.DEFAULT_MAX_TOKENS
    system_message: str | None = None          # None: InternVL2.5's default (tokens.py)
    code_prompt: str = ""                       # the generation contract's code_prompt; "" = none declared
    code_max_tokens: int = 0                    # the generation contract's code_max_tokens; 0 = none declared
    # The model's code guard (code_guard.py: the names its programs may read unbound, ...); None = no guard.
    code_guard: GuardRules | None = None
    max_generations: int = 4                    # generations running at once in one instance
    # Tokens of up to this many ms go in one streamed response (generation.coalesced): 20 ms is 50 updates
    # a second for a reader, and far fewer responses than one per token for best of N's samples.
    stream_interval_ms: int = 20
    vision_max_batch_size: int = model_config.VISION_MAX_BATCH_SIZE
    vision_queue_delay_us: int = 2_000
    ort_intra_op_threads: int = 0               # cpu: 0 = one per core

    def validate(self, max_positions: int) -> None:
        if not 1 <= self.context_length <= max_positions:
            raise ValueError(f"context_length must be in 1..{max_positions} (the model's positions)")
        if self.max_images < 0 or self.max_tiles < 1 or self.default_max_tokens < 1 or self.max_generations < 1 \
                or self.stream_interval_ms < 0:
            raise ValueError("max_images >= 0, max_tiles, default_max_tokens and max_generations >= 1, "
                             "stream_interval_ms >= 0")


def vision_config(target: Target, hidden: int, options: RepositoryOptions,
                  names: ServedNames = ServedNames()) -> mc.ModelConfig:
    config = mc.ModelConfig(name=names.vision, max_batch_size=options.vision_max_batch_size)
    T = model_config.TILE_SIZE
    if target is Target.CPU:
        config.backend = "python"
        set_parameters(config, {"onnx_file": VISION_ONNX_FILE, "intra_op_threads": options.ort_intra_op_threads})
        kind = mc.ModelInstanceGroup.KIND_CPU
    else:
        config.platform = "tensorrt_plan"
        config.default_model_filename = VISION_PLAN_FILE
        kind = mc.ModelInstanceGroup.KIND_GPU
    config.input.append(tensor(mc.ModelInput, VISION_PIXELS, mc.TYPE_FP32, [3, T, T]))
    config.output.append(tensor(mc.ModelOutput, VISION_FEATURES, mc.TYPE_FP32,
                                [model_config.TOKENS_PER_TILE, hidden]))
    config.dynamic_batching.max_queue_delay_microseconds = options.vision_queue_delay_us
    config.instance_group.append(mc.ModelInstanceGroup(kind=kind, count=1))
    return config


def generation_config(options: RepositoryOptions, meta: dict, names: ServedNames = ServedNames()) -> mc.ModelConfig:
    config = apply_contract(mc.ModelConfig(name=names.generation, backend="python", max_batch_size=0),
                            contract.GENERATION)
    config.output.append(tensor(mc.ModelOutput, TOKEN_IDS, mc.TYPE_INT32, [-1]))
    config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU, count=1))
    set_parameters(config, {
        contract.CONTEXT_LENGTH_PARAMETER: options.context_length,
        contract.MAX_IMAGES_PARAMETER: options.max_images,
        contract.MODEL_ID_PARAMETER: meta["model_id"],
        "model_name": meta["name"],
        "max_tiles": options.max_tiles,
        "default_max_tokens": options.default_max_tokens,
        "max_generations": options.max_generations,
        STREAM_INTERVAL_PARAMETER: options.stream_interval_ms,
        "vision_max_batch_size": options.vision_max_batch_size,
        "intra_op_threads": options.ort_intra_op_threads,
        VISION_MODEL_PARAMETER: names.vision,
    })
    if options.system_message is not None:
        set_parameters(config, {"system_message": options.system_message})
    if options.code_prompt:
        set_parameters(config, {contract.CODE_PROMPT_PARAMETER: options.code_prompt})
    if options.code_max_tokens:
        set_parameters(config, {contract.CODE_MAX_TOKENS_PARAMETER: str(options.code_max_tokens)})
    if options.code_guard is not None:
        set_parameters(config, {CODE_GUARD_PARAMETER: options.code_guard.to_json()})
    return config


def model_entries(target: Target | str, artifacts: str | os.PathLike, *, options: RepositoryOptions | None = None,
                  plan: str | os.PathLike | None = None, names: ServedNames = ServedNames()) -> FamilyEntries:
    target = Target(target)
    options = options or RepositoryOptions()
    artifacts = Path(artifacts).resolve()
    hint = "export with services.models.tokenvl.export"
    meta = json.loads(require(artifacts / META_FILE, hint).read_text())
    options.validate(int(meta["max_position_embeddings"]))
    vision_files: dict[str, Path | bytes] = {}
    if target is Target.CPU:
        vision_files[f"{VERSION}/model.py"] = model_source(contract.TOKENVL_VISION_MODEL)
        vision_files[f"{VERSION}/{VISION_ONNX_FILE}"] = require(artifacts / VISION_ONNX_FILE, hint)
        for external in sorted(artifacts.glob(f"{VISION_ONNX_FILE}?*")):
            vision_files[f"{VERSION}/{external.name}"] = external
    else:
        vision_files[f"{VERSION}/{VISION_PLAN_FILE}"] = require(
            Path(plan) if plan else artifacts / VISION_PLAN_FILE,
            "build it on a GPU machine with services.models.tokenvl.export_tensorrt")
    files: dict[str, Path | bytes] = {f"{VERSION}/model.py": model_source(contract.TOKENVL_MODEL)}
    for name in (TOKENIZER_FILE, META_FILE, EMBEDDINGS_FILE):
        files[f"{VERSION}/{name}"] = require(artifacts / name, hint)
    decoder_dir = artifacts / DECODER_DIR
    require(decoder_dir / "genai_config.json", hint)
    for path in sorted(decoder_dir.iterdir()):
        files[f"{VERSION}/{DECODER_DIR}/{path.name}"] = path
    return FamilyEntries(
        family=names.family,
        models=(ModelEntry(vision_config(target, int(meta["hidden_size"]), options, names), vision_files),
                ModelEntry(generation_config(options, meta, names), files)),
        manifest={"artifacts": str(artifacts), "model_id": meta["model_id"], "precision": meta["precision"],
                  "options": dataclasses.asdict(options)})
