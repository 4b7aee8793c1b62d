"""Export a TokenVL checkpoint to what the serving path runs (torch; build time only).

    <out>/vision.onnx          pixel_values FP32 [N,3,448,448] -> image_features FP32 [N,256,H]
                               (dynamo exporter, as TokenFD's encoder; N dynamic)
    <out>/decoder/model.onnx   the LLM without its embedding table: inputs_embeds + attention_mask
                               + past key/values -> logits + present key/values, built by
                               onnxruntime-genai's model builder from the Llama-layout weights
                               (GroupQueryAttention, fused RMSNorm; fp32, or int4/int8 weights)
    <out>/embed_tokens.npy     (vocab, H) float32, gathered outside the graph so visual
                               tokens can replace the <IMG_CONTEXT> rows
    <out>/tokenizer.json       copied from the checkpoint
    <out>/tokenvl.json         name, model id, sizes, special-token ids, what was exported

The builder reads a Hugging Face Llama directory, so the converted LLM is written to a
temporary one first (InternLM2 -> Llama: checkpoint.py); it never runs remote code.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from services.models.common.export import model_id, quiet_exporter
from services.models.tokenvl import checkpoint as ckpt
from services.models.tokenvl.artifacts import (
    DECODER_DIR,
    DECODER_ONNX_FILE,
    EMBEDDINGS_FILE,
    META_FILE,
    TOKENIZER_FILE,
    VISION_FEATURES,
    VISION_ONNX_FILE,
    VISION_PIXELS,
)
from services.models.tokenvl.config import TILE_SIZE, TOKENS_PER_TILE, TokenVLConfig

OPSET = 18
PRECISIONS = ("fp32", "int8", "int4")


def export_vision_onnx(model, path: str | Path, *, opset: int = OPSET) -> Path:
    """The VisionEncoder of `model` (a TokenVLModel) to `path`, tiles axis dynamic."""
    import onnx
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = torch.zeros(2, 3, TILE_SIZE, TILE_SIZE)   # 2, so the axis is not specialised to 1
    with torch.no_grad(), quiet_exporter():
        program = torch.onnx.export(
            model.vision.eval(), (pixels,), dynamo=True, opset_version=opset, optimize=True, verbose=False,
            input_names=[VISION_PIXELS], output_names=[VISION_FEATURES],
            dynamic_shapes={"pixel_values": {0: torch.export.Dim("tiles", min=1)}})
    program.save(str(path))
    onnx.checker.check_model(str(path), full_check=False)
    return path


def write_llama_directory(model, tokenizer, tokenizer_file: Path, out: Path) -> Path:
    """The converted LLM as a Hugging Face Llama directory (what the genai builder reads;
    it wants the special-token ids in the config)."""
    out.mkdir(parents=True, exist_ok=True)
    llm_config = model.language_model.config
    llm_config.bos_token_id, llm_config.eos_token_id = tokenizer.bos_id, tokenizer.im_end_id
    llm_config.pad_token_id = tokenizer.im_end_id
    model.language_model.save_pretrained(out, safe_serialization=True)
    shutil.copyfile(tokenizer_file, out / TOKENIZER_FILE)
    (out / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}))
    return out


def build_decoder(llama_dir: Path, out: Path, *, precision: str = "fp32") -> Path:
    """onnxruntime-genai's builder, CPU, without the embedding table (exclude_embeds)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tokenvl-builder-") as cache:
        extra = ["exclude_embeds=true"]
        command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(llama_dir), "-o", str(out),
                   "-p", "int4" if precision == "int4" else "fp32", "-e", "cpu", "-c", cache,
                   "--extra_options", *extra]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not (out / DECODER_ONNX_FILE).is_file():
        raise RuntimeError(f"the onnxruntime-genai builder failed ({result.returncode}):\n{result.stderr[-4000:]}")
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        source = out / DECODER_ONNX_FILE
        staged = out / "fp32.onnx"
        source.rename(staged)
        quantize_dynamic(str(staged), str(source), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         use_external_data_format=True)
        staged.unlink()
    return out


def export_artifacts(checkpoint_dir: str | Path, out_dir: str | Path, *, precision: str = "fp32",
                     name: str | None = None, log=lambda message: None) -> dict[str, Any]:
    """Checkpoint directory (upstream layout) -> the serving artefacts in out_dir; returns the metadata.
    `name`: the served model's name (default: the checkpoint directory's name)."""
    from services.models.tokenvl.tokens import Tokenizer

    checkpoint_dir, out = Path(checkpoint_dir), Path(out_dir)
    ckpt.load_config(checkpoint_dir)
    tokenizer_source = checkpoint_dir / TOKENIZER_FILE
    if not tokenizer_source.is_file():
        raise FileNotFoundError(f"{tokenizer_source} does not exist (the tokenizer with TokenVL's special tokens)")
    tokenizer = Tokenizer.from_file(tokenizer_source)
    model, config = ckpt.load_model(checkpoint_dir)
    if tokenizer.vocab_size > config.llm.vocab_size:
        raise ckpt.CheckpointError(f"the tokenizer has {tokenizer.vocab_size} tokens but the embedding table "
                                   f"only {config.llm.vocab_size} rows")
    out.mkdir(parents=True, exist_ok=True)
    log("exporting the vision path to ONNX ...")
    export_vision_onnx(model, out / VISION_ONNX_FILE)
    embeddings = model.language_model.get_input_embeddings().weight.detach().numpy()
    np.save(out / EMBEDDINGS_FILE, np.ascontiguousarray(embeddings, dtype=np.float32))
    shutil.copyfile(tokenizer_source, out / TOKENIZER_FILE)
    log(f"building the decoder ({precision}) with onnxruntime-genai's builder ...")
    with tempfile.TemporaryDirectory(prefix="tokenvl-llama-") as llama:
        write_llama_directory(model, tokenizer, tokenizer_source, Path(llama))
        del model
        if (out / DECODER_DIR).exists():
            shutil.rmtree(out / DECODER_DIR)
        build_decoder(Path(llama), out / DECODER_DIR, precision=precision)
    metadata = metadata_for(checkpoint_dir, config, tokenizer, precision, name=name)
    (out / META_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return metadata


def metadata_for(checkpoint_dir: Path, config: TokenVLConfig, tokenizer, precision: str,
                 name: str | None = None) -> dict[str, Any]:
    llm = config.llm
    return {
        "name": name or checkpoint_dir.resolve().name,
        "model_id": model_id(ckpt.weight_files(checkpoint_dir)),
        "precision": precision,
        "hidden_size": llm.hidden_size,
        "num_hidden_layers": llm.num_hidden_layers,
        "num_attention_heads": llm.num_attention_heads,
        "num_key_value_heads": llm.num_key_value_heads,
        "head_dim": llm.head_dim,
        "vocab_size": llm.vocab_size,
        "max_position_embeddings": llm.max_position_embeddings,
        "tokens_per_tile": TOKENS_PER_TILE,
        "tile_size": TILE_SIZE,
        "special_token_ids": {"bos": tokenizer.bos_id, "im_end": tokenizer.im_end_id,
                              "img_context": tokenizer.img_context_id},
        "vision": {"file": VISION_ONNX_FILE, "hidden_size": config.vision.hidden_size,
                   "num_hidden_layers": config.vision.num_hidden_layers},
        "decoder": {"directory": DECODER_DIR, "file": DECODER_ONNX_FILE, "builder": "onnxruntime-genai"},
    }
