"""tokenvl: the decoupled generation model (python backend, BLS), the platform's generation
contract (services/triton/generation.py).

The work is services.models.tokenvl.triton.generation.TokenVLGeneration; this file is the
Triton glue: each request is generated on a worker thread (so several stream at once),
its tiles go to tokenvl_vision by BLS, every token's text is sent as one response, the
last one flagged final. A cancelled request (the client closed its stream) stops at the
next token and its KV cache goes with its thread; the gauge IN_FLIGHT_METRIC counts
generations that have not ended, so a test can prove none leaked.
"""
import json
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenvl.artifacts import TOKEN_IDS, VISION_FEATURES, VISION_PIXELS
from services.models.tokenvl.triton.generation import TokenVLGeneration, request_from_inputs
from services.triton import generation as contract
from services.triton.errors import triton_error_message

_TRITON_CODES = {"INVALID_ARGUMENT": "INVALID_ARG", "NOT_FOUND": "NOT_FOUND", "UNAVAILABLE": "UNAVAILABLE",
                 "RESOURCE_EXHAUSTED": "UNAVAILABLE", "UNIMPLEMENTED": "UNSUPPORTED"}
CANCELLED_METRIC = "percept_generations_cancelled_total"
_VISION_UNAVAILABLE = ("not ready", "not found", "unknown model", "unavailable")


def _error(error):
    code = getattr(pb_utils.TritonError, _TRITON_CODES.get(error.grpc_status_name, "INTERNAL"))
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(triton_error_message(error), code))


def _chunk_response(chunk):
    return pb_utils.InferenceResponse(output_tensors=[
        pb_utils.Tensor(contract.TEXT_DELTA.name, np.array([chunk.text.encode("utf-8")], dtype=np.object_)),
        pb_utils.Tensor(contract.FINISH_REASON.name, np.array([chunk.finish_reason.encode()], dtype=np.object_)),
        pb_utils.Tensor(contract.PROMPT_TOKENS.name, np.array([chunk.prompt_tokens], dtype=np.int32)),
        pb_utils.Tensor(contract.COMPLETION_TOKENS.name, np.array([chunk.completion_tokens], dtype=np.int32)),
        pb_utils.Tensor(TOKEN_IDS, np.array(chunk.token_ids, dtype=np.int32)),
    ])


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self.generation = TokenVLGeneration.from_directory(
            version_dir, intra_op_threads=int(params["intra_op_threads"]),
            context_length=int(params[contract.CONTEXT_LENGTH_PARAMETER]),
            max_images=int(params[contract.MAX_IMAGES_PARAMETER]), max_tiles=int(params["max_tiles"]),
            default_max_tokens=int(params["default_max_tokens"]), system_message=params.get("system_message"),
            vision_batch_size=int(params["vision_max_batch_size"]))
        self.pool = ThreadPoolExecutor(max_workers=int(params["max_generations"]), thread_name_prefix="tokenvl")
        self.lock = threading.Lock()
        self.in_flight = 0
        self.stopping = threading.Event()   # set by finalize: running generations end at their next token
        # The families must outlive their metrics (the backend refuses a metric of a deleted family).
        self.metric_families = (
            pb_utils.MetricFamily(name=contract.IN_FLIGHT_METRIC, kind=pb_utils.MetricFamily.GAUGE,
                                  description="Generations started and not yet ended (queued included)"),
            pb_utils.MetricFamily(name=CANCELLED_METRIC, kind=pb_utils.MetricFamily.COUNTER,
                                  description="Generations stopped because the client left"))
        labels = {"model": args["model_name"]}
        self.gauge = self.metric_families[0].Metric(labels=labels)
        self.cancelled_total = self.metric_families[1].Metric(labels=labels)
        # One generation before serving: loads the decoder's kernels (text only: BLS is refused
        # until the server is ready, so the vision model cannot be called from here).
        for _ in self.generation.stream(self.generation.prepare(request_from_inputs(
                lambda name: np.array([b"warm up"], dtype=np.object_) if name == contract.PROMPT.name
                else (np.array([2], dtype=np.int32) if name == contract.MAX_TOKENS.name else None))), None):
            pass

    def execute(self, requests):
        for request in requests:
            self._track(+1)
            self.pool.submit(self._generate, request, request.get_response_sender())
        return None

    def _track(self, delta):
        with self.lock:
            self.in_flight += delta
            self.gauge.set(self.in_flight)

    def _generate(self, request, sender):
        final = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL
        ended = []

        def end():   # before the final response goes out, so a client that has it sees the gauge drop
            if not ended:
                ended.append(True)
                self._track(-1)

        try:
            def get(name):
                tensor = pb_utils.get_input_tensor_by_name(request, name)
                return None if tensor is None else tensor.as_numpy()

            prepared = self.generation.prepare(request_from_inputs(get))
            features = None if prepared.pixel_values is None else self._vision(prepared.pixel_values)
            finished = False
            stop_now = lambda: self.stopping.is_set() or sender.is_cancelled()  # noqa: E731
            for chunk in self.generation.stream(prepared, features, cancelled=stop_now):
                finished = bool(chunk.finish_reason)
                if finished:
                    end()
                sender.send(_chunk_response(chunk), flags=final if finished else 0)
            if not finished:   # cancelled: close the stream (the client is gone; nothing more is read)
                self.cancelled_total.increment(1)
                end()
                self._send_last(sender, pb_utils.InferenceResponse(error=pb_utils.TritonError(
                    "cancelled", pb_utils.TritonError.CANCELLED)))
        except PerceptError as error:
            if error.http_status >= 500:
                pb_utils.Logger.log_error(f"tokenvl {request.request_id()!r}: {error!r}")
            end()
            self._send_last(sender, _error(error))
        except Exception as exc:  # noqa: BLE001 - one failed request never fails the others
            pb_utils.Logger.log_error(f"tokenvl {request.request_id()!r}: {traceback.format_exc()}")
            end()
            self._send_last(sender, _error(PerceptError(ErrorCode.INTERNAL,
                                                        f"tokenvl failed: {type(exc).__name__}")))
        finally:
            end()

    @staticmethod
    def _send_last(sender, response):
        try:
            sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        except Exception:  # noqa: BLE001 - the stream may already be closed (cancelled)
            pass

    def _vision(self, pixel_values):
        """Visual tokens of every tile: BLS calls to tokenvl_vision (its dynamic batcher groups
        the tiles of concurrent requests), at most its max batch per call."""
        step = self.generation.vision_batch_size
        parts = []
        for start in range(0, len(pixel_values), step):
            response = pb_utils.InferenceRequest(
                model_name=contract.TOKENVL_VISION_MODEL, requested_output_names=[VISION_FEATURES],
                inputs=[pb_utils.Tensor(VISION_PIXELS, np.ascontiguousarray(pixel_values[start:start + step]))],
            ).exec()
            if response.has_error():
                message = response.error().message()
                if any(marker in message.lower() for marker in _VISION_UNAVAILABLE):
                    raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, f"tokenvl_vision is unavailable: {message}")
                raise PerceptError(ErrorCode.UPSTREAM_ERROR, f"tokenvl_vision failed: {message}")
            parts.append(pb_utils.get_output_tensor_by_name(response, VISION_FEATURES).as_numpy())
        return np.concatenate(parts)

    def finalize(self):
        self.stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.generation = None
