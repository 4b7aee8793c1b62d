"""tokenfd_locate: image + query -> per-token similarity maps (python backend, BLS).

The work is services.models.tokenfd.triton.locate.LocatePipeline; this file is the Triton glue:
tensors in and out, the BLS call to tokenfd_encoder, and one error per failed
request. Client faults come back as INVALID_ARG with "[<error code>] " in front of
the message, so the gateway maps them to typed 4xx.
"""
import json
import traceback
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.locate import LocatePipeline
from services.triton.errors import triton_error_message

# PerceptError's gRPC status name -> the python backend's error code (an attribute name:
# the stub defines pb_utils.TritonError only after this module is imported).
_TRITON_CODES = {
    "INVALID_ARGUMENT": "INVALID_ARG",
    "NOT_FOUND": "NOT_FOUND",
    "UNAVAILABLE": "UNAVAILABLE",
    "RESOURCE_EXHAUSTED": "UNAVAILABLE",
    "UNIMPLEMENTED": "UNSUPPORTED",
}
# Encoder answers after which the same request may succeed later (server starting or stopping).
_ENCODER_UNAVAILABLE = ("not ready", "not found", "unknown model", "unavailable")
_ENCODER_QUEUE_FULL = "maximum queue size"


def _error_response(error):
    code = getattr(pb_utils.TritonError, _TRITON_CODES.get(error.grpc_status_name, "INTERNAL"))
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(triton_error_message(error), code))


def _single_value(request, name, *, required=True):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        if required:
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"input {name} is missing")
        return None
    values = tensor.as_numpy().reshape(-1)
    if values.size != 1:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"input {name} must hold one element, got {values.size}")
    return values[0]


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        version_dir = Path(args["model_repository"]) / args["model_version"]
        # The builder always writes these (from the model config's numbers): no second default here.
        self.pipeline = LocatePipeline.from_directory(
            version_dir,
            max_tiles=int(params["max_tiles"]),
            encoder_max_batch_size=int(params["encoder_max_batch_size"]),
            pad_query_tokens=params["pad_query_tokens"] == "true",
        )
        # Triton rejects BLS calls until the server is ready, so a warmup request through the
        # encoder cannot run while loading; warm (and check) everything before the encoder instead.
        warmup = Path(args["model_repository"]) / contract.LOC_WARMUP_DIR
        if params["warmup"] == "true":
            self.pipeline.prepare((warmup / contract.LOC_WARMUP_IMAGE).read_bytes(),
                                  (warmup / contract.LOC_WARMUP_QUERY).read_text())

    def execute(self, requests):
        return [self._respond(request) for request in requests]

    def _respond(self, request):
        try:
            image = _single_value(request, contract.LOC_IMAGE)
            query = _single_value(request, contract.LOC_QUERY)
            max_tiles = _single_value(request, contract.LOC_MAX_TILES, required=False)
            if isinstance(image, str):
                image = image.encode("utf-8")
            result = self.pipeline.run(bytes(image), query, self._encode,
                                       max_tiles=None if max_tiles is None else int(max_tiles))
        except PerceptError as error:
            if error.http_status >= 500:  # our fault or the encoder's: worth a log line
                pb_utils.Logger.log_error(f"tokenfd_locate {request.request_id()!r}: {error!r}")
            return _error_response(error)
        except Exception as exc:  # noqa: BLE001 - one failed request never fails the batch
            pb_utils.Logger.log_error(f"tokenfd_locate {request.request_id()!r}: {traceback.format_exc()}")
            return _error_response(PerceptError(ErrorCode.INTERNAL, f"tokenfd_locate failed: {type(exc).__name__}"))
        texts = np.array([piece.encode("utf-8") for piece in result.token_texts], dtype=np.object_)
        return pb_utils.InferenceResponse(output_tensors=[
            pb_utils.Tensor(contract.LOC_SIMILARITY, result.similarity),
            pb_utils.Tensor(contract.LOC_TOKEN_IDS, result.token_ids.astype(np.int64)),
            pb_utils.Tensor(contract.LOC_TOKEN_TEXTS, texts),
            pb_utils.Tensor(contract.LOC_GRID, np.array(result.grid, dtype=np.int32)),
            pb_utils.Tensor(contract.LOC_NUM_TILES, np.array([result.num_tiles], dtype=np.int32)),
            pb_utils.Tensor(contract.LOC_IMAGE_SIZE, np.array(result.image_size, dtype=np.int32)),
        ])

    def _encode(self, pixel_values, query_embeddings):
        """One BLS call to tokenfd_encoder."""
        response = pb_utils.InferenceRequest(
            model_name=contract.TOKENFD_ENCODER,
            requested_output_names=[contract.ENC_SIMILARITY],
            inputs=[pb_utils.Tensor(contract.ENC_PIXELS, pixel_values),
                    pb_utils.Tensor(contract.ENC_QUERY, query_embeddings)],
        ).exec()
        if not response.has_error():
            return pb_utils.get_output_tensor_by_name(response, contract.ENC_SIMILARITY).as_numpy()
        message = response.error().message()
        lowered = message.lower()
        if _ENCODER_QUEUE_FULL in lowered:
            raise PerceptError(ErrorCode.RESOURCE_EXHAUSTED, f"the encoder queue is full: {message}")
        if any(marker in lowered for marker in _ENCODER_UNAVAILABLE):
            raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, f"tokenfd_encoder is unavailable: {message}")
        raise PerceptError(ErrorCode.UPSTREAM_ERROR, f"tokenfd_encoder failed: {message}")

    def finalize(self):
        self.pipeline = None
