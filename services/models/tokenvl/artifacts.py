"""File names of an exported TokenVL (one source for the exporter, the repository builder
and the serving runtime)."""
from services.models.tensorrt import PLAN_FILE

VISION_ONNX_FILE = "vision.onnx"          # pixel_values [N,3,448,448] -> image_features [N,256,H]
VISION_PLAN_FILE = PLAN_FILE              # the gpu target's TensorRT engine of vision.onnx (Triton's default name)
DECODER_DIR = "decoder"                   # onnxruntime-genai builder output (model.onnx + data, genai_config)
DECODER_ONNX_FILE = "model.onnx"
EMBEDDINGS_FILE = "embed_tokens.npy"      # (vocab, H) float32: the LLM's input embedding table
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "tokenvl.json"

# The vision graph's tensor names (tokenvl_vision's inputs and outputs).
VISION_PIXELS = "pixel_values"
VISION_FEATURES = "image_features"

# The generation model's config parameter naming the vision model its BLS calls go to: a family that
# serves another TokenVL-shaped checkpoint (CodePercept-mini) names its own pair of Triton models.
VISION_MODEL_PARAMETER = "vision_model"
# The generation model's config parameter: the milliseconds of tokens one streamed response may gather
# (services.models.tokenvl.triton.generation.coalesced; 0 = one response per token).
STREAM_INTERVAL_PARAMETER = "stream_interval_ms"
# The generation model's config parameter: its code guard's rules as JSON (the names a program may read
# unbound, the parallel lists; services.models.tokenvl.triton.code_guard.GuardRules); absent = no guard.
CODE_GUARD_PARAMETER = "code_guard"

# tokenvl's output beyond the generation contract (which lets a model add outputs): the ids
# generated since the previous response, so a client can compare generations token for token.
TOKEN_IDS = "TOKEN_IDS"
