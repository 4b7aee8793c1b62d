"""tokenfd_encoder, cpu target: python backend running the exported graph in ONNX Runtime.

The dynamic batcher hands several requests to one `execute`; EncoderRuntime runs the
requests with the same query length as one ONNX Runtime call and splits the result.
A failure answers the affected requests with an error, never the whole batch
(services/triton/python_backend.py).
"""
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.encoder_runtime import EncoderInput, EncoderRuntime
from services.triton.python_backend import PythonBackendModel, input_array


class TritonPythonModel(PythonBackendModel):
    def setup(self, args):
        self.runtime = EncoderRuntime.from_file(args.version_dir / args.params["onnx_file"],
                                                intra_op_threads=args.integer("intra_op_threads"))

    def run_batch(self, requests):
        inputs = [EncoderInput(pixel_values=input_array(request, contract.ENC_PIXELS),
                               query_embeddings=input_array(request, contract.ENC_QUERY))
                  for request in requests]
        return [result if isinstance(result, Exception) else {contract.ENC_SIMILARITY: result}
                for result in self.runtime.run_batch(inputs)]

    def teardown(self):
        self.runtime = None
