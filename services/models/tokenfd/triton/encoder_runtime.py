"""ONNX Runtime execution of the exported TokenFD encoder (the cpu target's engine).

The python-backend model `tokenfd_encoder` is a thin wrapper around this: the
dynamic batcher hands it several requests at once; requests whose query length
matches are concatenated along the tile axis and run as one ONNX Runtime call, then
split back, so batching across requests pays off. Kept free of Triton imports so it
is tested directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from services.models.tokenfd.triton import contract


@dataclass(frozen=True)
class EncoderInput:
    pixel_values: np.ndarray      # (n, 3, 448, 448) float32
    query_embeddings: np.ndarray  # (n, T, D) float32


def create_session(onnx_path: str | Path, *, intra_op_threads: int = 0, inter_op_threads: int = 1):
    """A CPU InferenceSession; 0 threads = ONNX Runtime's default (one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = inter_op_threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])


class EncoderRuntime:
    def __init__(self, session) -> None:
        self.session = session
        names = {i.name for i in session.get_inputs()}
        expected = {contract.ENC_PIXELS, contract.ENC_QUERY}
        if names != expected:
            raise ValueError(f"encoder graph inputs {sorted(names)} != contract {sorted(expected)}")

    @classmethod
    def from_file(cls, onnx_path: str | Path, **session_options) -> "EncoderRuntime":
        return cls(create_session(onnx_path, **session_options))

    def run(self, pixel_values: np.ndarray, query_embeddings: np.ndarray) -> np.ndarray:
        (similarity,) = self.session.run(
            [contract.ENC_SIMILARITY],
            {contract.ENC_PIXELS: np.ascontiguousarray(pixel_values, dtype=np.float32),
             contract.ENC_QUERY: np.ascontiguousarray(query_embeddings, dtype=np.float32)})
        return similarity

    def run_batch(self, inputs: Sequence[EncoderInput]) -> list[np.ndarray | Exception]:
        """One result per input, in order: the similarity maps, or the exception that
        failed its group (one bad group never fails the others)."""
        results: list[np.ndarray | Exception | None] = [None] * len(inputs)
        groups: dict[tuple[int, ...], list[int]] = {}
        for index, item in enumerate(inputs):
            groups.setdefault(tuple(item.query_embeddings.shape[1:]), []).append(index)
        for members in groups.values():
            try:
                pixels = np.concatenate([inputs[i].pixel_values for i in members])
                queries = np.concatenate([inputs[i].query_embeddings for i in members])
                similarity = self.run(pixels, queries)
            except Exception as exc:  # noqa: BLE001 - reported per request by the caller
                for i in members:
                    results[i] = exc
                continue
            offset = 0
            for i in members:
                n = inputs[i].pixel_values.shape[0]
                results[i] = similarity[offset:offset + n]
                offset += n
        return results  # type: ignore[return-value]
