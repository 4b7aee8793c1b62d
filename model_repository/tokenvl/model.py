"""tokenvl: the decoupled generation model (python backend, BLS), the platform's generation
contract (services/triton/generation.py).

The work is services.models.tokenvl.triton.generation.TokenVLGeneration; this file is the
Triton glue: its tiles go by BLS to tokenvl_vision (the model its `vision_model` parameter names),
the text is sent as it is generated, the tokens of up to `stream_interval_ms` in one response
(`coalesced`), the last one flagged final. The worker pool, cancellation (a client that closed
its stream stops at the next token, its KV cache going with its thread) and the gauge of
generations in flight (IN_FLIGHT_METRIC) are services/triton/python_backend.py's DecoupledModel.
Requests for the same image (best of N's samples) share one vision pass, as they share one prefill
(services/triton/shared_results.py).
"""
import json

import numpy as np
import triton_python_backend_utils as pb_utils

from services.models.tokenvl.artifacts import (
    CODE_GUARD_PARAMETER,
    STREAM_INTERVAL_PARAMETER,
    TOKEN_IDS,
    VISION_FEATURES,
    VISION_MODEL_PARAMETER,
    VISION_PIXELS,
)
from services.models.tokenvl.triton.code_guard import GuardRules
from services.models.tokenvl.triton.generation import TokenVLGeneration, coalesced, request_from_inputs
from services.models.tokenvl.triton.lockstep import DECODE_PASSES_METRIC, DECODE_TOKENS_METRIC
from services.triton import generation as contract
from services.triton.python_backend import DecoupledModel, bls, input_array
from services.triton.shared_results import SharedResults, digest

IMAGES_KEPT = 8   # recent images' visual tokens


def _outputs(chunk):
    return {
        contract.TEXT_DELTA.name: np.array([chunk.text.encode("utf-8")], dtype=np.object_),
        contract.FINISH_REASON.name: np.array([chunk.finish_reason.encode()], dtype=np.object_),
        contract.PROMPT_TOKENS.name: np.array([chunk.prompt_tokens], dtype=np.int32),
        contract.COMPLETION_TOKENS.name: np.array([chunk.completion_tokens], dtype=np.int32),
        TOKEN_IDS: np.array(chunk.token_ids, dtype=np.int32),
    }


class TritonPythonModel(DecoupledModel):
    in_flight_metric = contract.IN_FLIGHT_METRIC
    cancelled_metric = contract.CANCELLED_METRIC

    def setup(self, args):
        self.generation = TokenVLGeneration.from_directory(
            args.version_dir, intra_op_threads=args.integer("intra_op_threads"),
            context_length=args.integer(contract.CONTEXT_LENGTH_PARAMETER),
            max_images=args.integer(contract.MAX_IMAGES_PARAMETER), max_tiles=args.integer("max_tiles"),
            default_max_tokens=args.integer("default_max_tokens"), system_message=args.params.get("system_message"),
            vision_batch_size=args.integer("vision_max_batch_size"),
            code_guard=(GuardRules.from_entry(json.loads(args.params[CODE_GUARD_PARAMETER]))
                        if CODE_GUARD_PARAMETER in args.params else None))
        self.workers = args.integer("max_generations")
        self.stream_interval_s = args.integer(STREAM_INTERVAL_PARAMETER) / 1000
        self.vision_model = args.params[VISION_MODEL_PARAMETER]
        self.visual_tokens = SharedResults(IMAGES_KEPT)
        # One generation before serving: loads the decoder's kernels (text only: BLS is refused
        # until the server is ready, so the vision model cannot be called from here).
        for _ in self.generation.stream(self.generation.prepare(request_from_inputs(
                lambda name: np.array([b"warm up"], dtype=np.object_) if name == contract.PROMPT.name
                else (np.array([2], dtype=np.int32) if name == contract.MAX_TOKENS.name else None))), None):
            pass
        self._count_decoding(args.name)   # after the warm-up: the counters count what was served

    def _count_decoding(self, name: str) -> None:
        """The decoder's passes and the tokens they decoded, as counters on Triton's metrics page. A pass
        adds to plain counts; each request's end adds them to the metrics (under the metrics' lock),
        so a pass costs no call into the backend."""
        # The families must outlive their metrics (the backend refuses a metric of a deleted family).
        self.decode_families = (
            pb_utils.MetricFamily(name=DECODE_PASSES_METRIC, kind=pb_utils.MetricFamily.COUNTER,
                                  description="Forward passes of the decoder after the prefill"),
            pb_utils.MetricFamily(name=DECODE_TOKENS_METRIC, kind=pb_utils.MetricFamily.COUNTER,
                                  description="Tokens those passes decoded (several per pass in lockstep)"))
        self.decode_metrics = tuple(family.Metric(labels={"model": name}) for family in self.decode_families)
        self.decoded = [0, 0]   # passes and tokens not yet added to the metrics

        def counted(rows: int) -> None:
            with self.lock:
                self.decoded[0] += 1
                self.decoded[1] += rows

        self.generation.decoder.on_pass = counted

    def _publish_decoding(self) -> None:
        with self.lock:
            for metric, count in zip(self.decode_metrics, self.decoded, strict=True):
                if count:
                    metric.increment(count)
            self.decoded = [0, 0]

    def stream(self, request, cancelled):
        prepared = self.generation.prepare(request_from_inputs(lambda name: input_array(request, name)))
        pixels = prepared.pixel_values
        features = None if pixels is None else self.visual_tokens.get(digest(pixels), lambda: self._vision(pixels))
        chunks = self.generation.stream(prepared, features, cancelled=cancelled)
        try:
            for chunk in coalesced(chunks, self.stream_interval_s):
                if chunk.finish_reason:   # counted before the last response: a client that has it sees them
                    self._publish_decoding()
                yield _outputs(chunk), bool(chunk.finish_reason)
        finally:
            self._publish_decoding()

    def _vision(self, pixel_values):
        """Visual tokens of every tile: BLS calls to the vision model (its dynamic batcher groups
        the tiles of concurrent requests), at most its max batch per call."""
        step = self.generation.vision_batch_size
        return np.concatenate([
            bls(self.vision_model, {VISION_PIXELS: np.ascontiguousarray(pixel_values[start:start + step])},
                [VISION_FEATURES])[0]
            for start in range(0, len(pixel_values), step)])

    def teardown(self):
        self.generation = None
