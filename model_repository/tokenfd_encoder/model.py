"""tokenfd_encoder, cpu target: python backend running the exported graph in ONNX Runtime.

The dynamic batcher hands several requests to one `execute`; EncoderRuntime runs the
requests with the same query length as one ONNX Runtime call and splits the result.
A failure answers the affected requests with an error, never the whole batch.
"""
import json
from pathlib import Path

import triton_python_backend_utils as pb_utils

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.encoder_runtime import EncoderInput, EncoderRuntime
from services.triton.errors import triton_error_message


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self.runtime = EncoderRuntime.from_file(
            version_dir / params["onnx_file"], intra_op_threads=int(params["intra_op_threads"]))

    def execute(self, requests):
        inputs = [
            EncoderInput(
                pixel_values=pb_utils.get_input_tensor_by_name(request, contract.ENC_PIXELS).as_numpy(),
                query_embeddings=pb_utils.get_input_tensor_by_name(request, contract.ENC_QUERY).as_numpy(),
            )
            for request in requests
        ]
        responses = []
        for result in self.runtime.run_batch(inputs):
            if isinstance(result, Exception):
                pb_utils.Logger.log_error(f"tokenfd_encoder: ONNX Runtime failed: {result!r}")
                message = triton_error_message(PerceptError(
                    ErrorCode.INTERNAL, f"encoder failed: {type(result).__name__}: {result}"))
                responses.append(pb_utils.InferenceResponse(
                    error=pb_utils.TritonError(message, pb_utils.TritonError.INTERNAL)))
            else:
                responses.append(pb_utils.InferenceResponse(
                    output_tensors=[pb_utils.Tensor(contract.ENC_SIMILARITY, result)]))
        return responses

    def finalize(self):
        self.runtime = None
