"""tokenvl_vision, cpu target: python backend running the exported vision graph in ONNX Runtime.

The dynamic batcher hands several requests to one `execute`; their tiles run as one ONNX
Runtime call and are split back. A failure answers the affected requests with an error
(services/triton/python_backend.py).
"""
import numpy as np

from services.models.tokenvl.artifacts import VISION_FEATURES, VISION_PIXELS
from services.models.tokenvl.triton.decoder import create_session
from services.triton.python_backend import PythonBackendModel, input_array


class TritonPythonModel(PythonBackendModel):
    def setup(self, args):
        self.session = create_session(args.version_dir / args.params["onnx_file"],
                                      intra_op_threads=args.integer("intra_op_threads"))

    def run_batch(self, requests):
        pixels = [input_array(request, VISION_PIXELS) for request in requests]
        try:
            (features,) = self.session.run([VISION_FEATURES], {VISION_PIXELS: np.concatenate(pixels)})
        except Exception as exc:  # noqa: BLE001 - reported to every request of the batch
            return [exc] * len(requests)
        bounds = np.cumsum([len(array) for array in pixels])[:-1]
        return [{VISION_FEATURES: part} for part in np.split(features, bounds)]

    def teardown(self):
        self.session = None
