"""tokenvl_vision, cpu target: python backend running the exported vision graph in ONNX Runtime.

The dynamic batcher hands several requests to one `execute`; their tiles run as one ONNX
Runtime call and are split back. A failure answers the affected requests with an error.
"""
import json
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenvl.artifacts import VISION_FEATURES, VISION_PIXELS
from services.models.tokenvl.triton.decoder import create_session
from services.triton.errors import triton_error_message


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        version_dir = Path(args["model_repository"]) / args["model_version"]
        self.session = create_session(version_dir / params["onnx_file"],
                                      intra_op_threads=int(params["intra_op_threads"]))

    def execute(self, requests):
        pixels = [pb_utils.get_input_tensor_by_name(r, VISION_PIXELS).as_numpy() for r in requests]
        try:
            (features,) = self.session.run([VISION_FEATURES], {VISION_PIXELS: np.concatenate(pixels)})
        except Exception as exc:  # noqa: BLE001 - reported to every request of the batch
            pb_utils.Logger.log_error(f"tokenvl_vision: ONNX Runtime failed: {exc!r}")
            message = triton_error_message(PerceptError(ErrorCode.INTERNAL, f"vision encoder failed: {exc}"))
            return [pb_utils.InferenceResponse(error=pb_utils.TritonError(message)) for _ in requests]
        responses, offset = [], 0
        for array in pixels:
            part = features[offset:offset + len(array)]
            offset += len(array)
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(VISION_FEATURES, part)]))
        return responses

    def finalize(self):
        self.session = None
