"""Export a TokenFD checkpoint to the artefacts the serving path needs (torch).

    <out>/encoder.onnx         pixel_values FP32 [N,3,448,448] + query_embeddings FP32 [N,T,D]
                               -> similarity FP32 [N,T,128,128]   (N, T dynamic); the portable
                               graph (opset 18), what TensorRT builds the gpu target's engine from
    <out>/encoder.cpu.onnx     the same signature and function, laid out for ONNX Runtime's CPU
                               kernels (cpu_encoder.py, opset 23): what the cpu target serves
    <out>/tok_embeddings.npy   (vocab, D) float32: the query lookup table, outside the graph
    <out>/tokenizer.model      the checkpoint's sentencepiece model, copied
    <out>/tokenfd.json         name, model id, D, vocab size, tile/grid sizes, default max tiles, and
                               the cosine threshold the checkpoint records (null when none: official
                               checkpoints record none, and the gateway's default applies)

The graph computes the cosine similarity next to the encoder, so the (N, 16384, D)
feature map never leaves it (docs/tokenfd.md has the memory arithmetic). It is
exported with the dynamo exporter (torch.export -> ONNX), optimised by onnxscript,
and checked with onnx.checker.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from services.models.common.export import model_id, quiet_exporter
from services.models.tokenfd import checkpoint as ckpt
from services.models.tokenfd.artifacts import CPU_ONNX_FILE, EMBEDDINGS_FILE, META_FILE, ONNX_FILE, TOKENIZER_FILE
from services.models.tokenfd.config import DEFAULT_MAX_TILES, FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.triton import contract

OPSET = 18       # the portable graph: what TensorRT's ONNX parser reads
CPU_OPSET = 23   # the cpu graph: ONNX's fused Attention operator arrived in opset 23


@dataclass(frozen=True)
class ExportedArtifacts:
    directory: Path
    onnx: Path
    cpu_onnx: Path
    embeddings: Path
    tokenizer: Path
    metadata_file: Path
    metadata: dict[str, Any]


def export_encoder_onnx(model, path: str | Path, *, opset: int = OPSET) -> Path:
    """Write the portable graph: the SimilarityEncoder of `model` (a TokenFDModel) to `path`."""
    from services.models.tokenfd.modeling import SimilarityEncoder

    return _export(SimilarityEncoder(model), Path(path), opset)


def export_cpu_encoder_onnx(model, path: str | Path) -> Path:
    """Write the cpu graph: cpu_encoder.CpuSimilarityEncoder of `model`, its ViT traced
    with fused attention, run tile by tile (tile_loop)."""
    from services.models.tokenfd import tile_loop
    from services.models.tokenfd.cpu_encoder import CpuSimilarityEncoder, fused_attention

    with fused_attention(model):
        path = _export(CpuSimilarityEncoder(model), Path(path), CPU_OPSET)
    tile_loop.rewrite_file(path)
    verify_onnx(path)
    return path


def _export(encoder, path: Path, opset: int) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    encoder = encoder.eval()
    # Example shapes other than 1 so neither axis is specialised to a constant.
    pixels = torch.zeros(2, 3, TILE_SIZE, TILE_SIZE)
    queries = torch.zeros(2, 3, encoder.config.feature_dim)
    tiles, tokens = torch.export.Dim("tiles", min=1), torch.export.Dim("tokens", min=1)
    with torch.no_grad(), quiet_exporter():
        program = torch.onnx.export(
            encoder, (pixels, queries), dynamo=True, opset_version=opset, optimize=True, verbose=False,
            input_names=[contract.ENC_PIXELS, contract.ENC_QUERY], output_names=[contract.ENC_SIMILARITY],
            dynamic_shapes={contract.ENC_PIXELS: {0: tiles}, contract.ENC_QUERY: {0: tiles, 1: tokens}})
    program.save(str(path))
    verify_onnx(path)
    return path


def verify_onnx(path: str | Path) -> None:
    """onnx.checker (by path, so a model with external data is checked too) and the
    contract's input/output names."""
    import onnx

    onnx.checker.check_model(str(path), full_check=False)
    graph = onnx.load(str(path), load_external_data=False).graph
    inputs = [i.name for i in graph.input]
    outputs = [o.name for o in graph.output]
    if inputs != [contract.ENC_PIXELS, contract.ENC_QUERY] or outputs != [contract.ENC_SIMILARITY]:
        raise RuntimeError(f"exported graph has inputs {inputs} and outputs {outputs}, "
                           f"not the contract's ({contract.ENC_PIXELS}, {contract.ENC_QUERY}) -> "
                           f"{contract.ENC_SIMILARITY}")


def export_artifacts(checkpoint_dir: str | Path, out_dir: str | Path) -> ExportedArtifacts:
    """Checkpoint directory (upstream layout) -> the four serving artefacts in out_dir."""
    checkpoint_dir, out = Path(checkpoint_dir), Path(out_dir)
    ckpt.load_config(checkpoint_dir)   # cheap checks first: config, record, tokenizer, weight files
    recorded = ckpt.read_record(checkpoint_dir)
    ckpt.weight_files(checkpoint_dir)
    tokenizer_source = checkpoint_dir / TOKENIZER_FILE
    if not tokenizer_source.is_file():
        raise FileNotFoundError(f"{tokenizer_source} does not exist (the checkpoint's sentencepiece model)")
    model, config = ckpt.load_model(checkpoint_dir)
    out.mkdir(parents=True, exist_ok=True)

    onnx_path = export_encoder_onnx(model, out / ONNX_FILE)
    cpu_onnx_path = export_cpu_encoder_onnx(model, out / CPU_ONNX_FILE)
    embeddings = model.tok_embeddings.weight.detach().numpy().astype(np.float32, copy=False)
    np.save(out / EMBEDDINGS_FILE, np.ascontiguousarray(embeddings))
    shutil.copyfile(tokenizer_source, out / TOKENIZER_FILE)
    del model

    from services.models.tokenfd.tokenizer import QueryTokenizer

    tokenizer_vocab = QueryTokenizer.from_file(out / TOKENIZER_FILE).vocab_size
    if tokenizer_vocab > config.vocab_size:
        raise ckpt.CheckpointError(f"the tokenizer has {tokenizer_vocab} pieces but the embedding table only "
                                   f"{config.vocab_size} rows")
    metadata = {
        "name": config.name,
        "model_id": model_id(ckpt.weight_files(checkpoint_dir)),
        "D": config.feature_dim,
        "vocab_size": config.vocab_size,
        "tokenizer_vocab_size": tokenizer_vocab,
        "tile_size": TILE_SIZE,
        "feature_grid": FEATURE_GRID,
        "max_tiles": DEFAULT_MAX_TILES,
        "threshold": recorded.threshold,
        "decoding": recorded.decoding.to_json() if recorded.decoding is not None else None,
        "source_checkpoint": checkpoint_dir.resolve().name,
        "vision": {"hidden_size": config.vision.hidden_size, "num_hidden_layers": config.vision.num_hidden_layers,
                   "num_attention_heads": config.vision.num_attention_heads,
                   "intermediate_size": config.vision.intermediate_size},
        "onnx": {"file": ONNX_FILE, "opset": OPSET, "inputs": [contract.ENC_PIXELS, contract.ENC_QUERY],
                 "outputs": [contract.ENC_SIMILARITY]},
        "cpu_onnx": {"file": CPU_ONNX_FILE, "opset": CPU_OPSET},
    }
    meta_path = out / META_FILE
    meta_path.write_text(json.dumps(metadata, indent=2) + "\n")
    return ExportedArtifacts(directory=out, onnx=onnx_path, cpu_onnx=cpu_onnx_path, embeddings=out / EMBEDDINGS_FILE,
                             tokenizer=out / TOKENIZER_FILE, metadata_file=meta_path, metadata=metadata)


def quantize_int8(onnx_path: str | Path, out_path: str | Path) -> Path:
    """Dynamic int8 quantisation of the MatMul weights (ONNX Runtime), for the CPU
    benchmark. Activations stay float; accuracy must be checked against fp32. The quantiser
    does not look into a Loop's body, so a tile-looped graph is quantised unwrapped and
    wrapped again."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from services.models.tokenfd import tile_loop

    out_path = Path(out_path)
    model = onnx.load(str(onnx_path))
    looped = tile_loop.is_wrapped(model)
    if looped:
        tile_loop.unwrap(model)
    quantize_dynamic(model, str(out_path), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    if looped:
        tile_loop.rewrite_file(out_path)
    return out_path
