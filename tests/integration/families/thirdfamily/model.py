"""The throwaway family's Triton model: the generation contract, answering the prompt's text
Caesar-shifted by the checkpoint's key, one word per response. Self-contained (numpy and the
python backend only), as a family's model may be."""
import json
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils


def shifted(text: str, key: int) -> str:
    return "".join(chr((ord(c) - 97 + key) % 26 + 97) if "a" <= c <= "z" else c for c in text)


class TritonPythonModel:
    def initialize(self, args):
        weights = Path(args["model_repository"]) / args["model_version"] / "third.json"
        self.key = json.loads(weights.read_text())["key"]

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            prompt = pb_utils.get_input_tensor_by_name(request, "PROMPT")
            if prompt is None:  # a chat request: MESSAGES, the last turn's text
                raw = pb_utils.get_input_tensor_by_name(request, "MESSAGES").as_numpy().reshape(-1)[0]
                text = json.loads(raw.decode())[-1]["content"]
            else:
                text = prompt.as_numpy().reshape(-1)[0].decode()
            words = shifted(text, self.key).split(" ")
            for number, word in enumerate(words, start=1):
                last = number == len(words)
                outputs = [
                    pb_utils.Tensor("TEXT_DELTA", np.array([(word if number == 1 else " " + word).encode()],
                                                           dtype=object)),
                    pb_utils.Tensor("FINISH_REASON", np.array([b"stop" if last else b""], dtype=object)),
                    pb_utils.Tensor("PROMPT_TOKENS", np.array([len(text.split(" "))], dtype=np.int32)),
                    pb_utils.Tensor("COMPLETION_TOKENS", np.array([number], dtype=np.int32)),
                ]
                sender.send(pb_utils.InferenceResponse(output_tensors=outputs),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if last else 0)
        return None
