"""The generation contract: how any text-generation model served by this platform's Triton
looks from outside. The one source of truth for the model-repository builder (which turns
it into a config's inputs and outputs: services.triton.repository.apply_contract), for the
model (services/models/tokenvl/triton) and for the clients (the gateway's chat completions and
document VQA, services/codeperception/backends/triton.py, which checks a served model's config
against it with `problems()` before using it).

A generation model is **decoupled** (model_transaction_policy { decoupled: true }): one
request, a stream of responses. Every response carries the next TEXT_DELTA; the last one
also carries FINISH_REASON and the token counts, and is flagged final.

    in   PROMPT             BYTES [1]    UTF-8 single user instruction; optional (see below)
    in   MESSAGES           BYTES [1]    UTF-8 JSON array of turns; optional (see below)
    in   IMAGES             BYTES [-1]   encoded images (PNG/JPEG), in prompt order; optional
    in   MAX_TOKENS         INT32 [1]    optional; the model's default when absent
    in   TEMPERATURE        FP32  [1]    optional; 0 = greedy
    in   TOP_P              FP32  [1]    optional
    in   TOP_K              INT32 [1]    optional; 0 or absent = no top-k
    in   SEED               INT64 [1]    optional; unseeded when absent
    in   STOP               BYTES [-1]   optional stop strings (at most MAX_STOP_STRINGS)
    out  TEXT_DELTA         BYTES [1]    UTF-8 text generated since the previous response
    out  FINISH_REASON      BYTES [1]    "" until the last response; then "stop", "length" or "error"
    out  PROMPT_TOKENS      INT32 [1]    tokens of the prompt (images included)
    out  COMPLETION_TOKENS  INT32 [1]    tokens generated so far

Exactly one of PROMPT and MESSAGES is given, else the request is refused `[invalid_request]`.
- PROMPT is a single user instruction; the images (if any) go before it, in order.
- MESSAGES is a JSON array of turns `{"role": "system"|"user"|"assistant", "content": "<text>"}`
  (see `encode_messages` / `decode_messages`). Every IMAGE_PLACEHOLDER ("<image>") in a user
  turn's content stands for the next entry of IMAGES, in order; images without a placeholder
  (or placeholders without an image) are refused `[invalid_request]`.
The chat template is the model's business (TokenVL: the InternVL2.5 template; the default
system message is the model's configuration).

Errors travel as Triton errors with the platform's "[code] message" convention
(services/triton/errors.py), codes from services/common/errors.py: `invalid_request`,
`invalid_image`, `too_many_images` (over the model's `max_images`), `context_length_exceeded`
(prompt tokens + max_tokens over the model's `context_length`), `unsupported_content`.

Shapes are without a batch axis (max_batch_size 0): one request is one prompt.

A generation model's config `parameters` carry CONFIG_PARAMETERS (`context_length`,
`max_images`, `model_id`) so that clients can read its limits from the model config
(`model_limits`). A model trained to answer image-to-code to one wording of the instruction
may declare it as CODE_PROMPT_PARAMETER (`code_prompt`, read by `code_prompt`); code
perception sends it when no instruction is configured. Likewise CODE_MAX_TOKENS_PARAMETER
(`code_max_tokens`, read by `code_max_tokens`): how long an answer to it may run (the longest
target it was trained on), which code perception asks for when its configured max_tokens does
not fit the context.

Cancellation: when the client cancels the gRPC stream, the model stops generating and frees
the request's KV cache; the model exports how many generations are in flight (the TokenVL
model: the metric IN_FLIGHT_METRIC on Triton's metrics page) so a test can prove none leaked.

The Triton model names of TokenVL: TOKENVL_MODEL (the decoupled generation model, BLS) and
TOKENVL_VISION_MODEL (its vision encoder: ONNX on cpu, TensorRT on gpu).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

from services.common.errors import ErrorCode, PerceptError

# Triton's data-type names (model_config.proto's DataType without the TYPE_ prefix).
BYTES, INT32, INT64, FP32 = "STRING", "INT32", "INT64", "FP32"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    data_type: str           # a Triton DataType name without "TYPE_"
    dims: tuple[int, ...]
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class ModelContract:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    decoupled: bool

    def input(self, name: str) -> TensorSpec:
        return next(t for t in self.inputs if t.name == name)

    def output(self, name: str) -> TensorSpec:
        return next(t for t in self.outputs if t.name == name)


PROMPT = TensorSpec("PROMPT", BYTES, (1,), optional=True, doc="UTF-8 single user instruction")
MESSAGES = TensorSpec("MESSAGES", BYTES, (1,), optional=True, doc="UTF-8 JSON array of chat turns")
IMAGES = TensorSpec("IMAGES", BYTES, (-1,), optional=True, doc="encoded images, in prompt order")
MAX_TOKENS = TensorSpec("MAX_TOKENS", INT32, (1,), optional=True, doc="most tokens to generate")
TEMPERATURE = TensorSpec("TEMPERATURE", FP32, (1,), optional=True, doc="sampling temperature; 0 = greedy")
TOP_P = TensorSpec("TOP_P", FP32, (1,), optional=True, doc="nucleus sampling")
TOP_K = TensorSpec("TOP_K", INT32, (1,), optional=True, doc="top-k sampling; 0 = no top-k")
SEED = TensorSpec("SEED", INT64, (1,), optional=True, doc="sampling seed")
# At most this many stop strings (OpenAI's limit): the gateway's chat schema and every generation
# model read it here, so what the gateway lets through a model accepts.
MAX_STOP_STRINGS = 4
STOP = TensorSpec("STOP", BYTES, (-1,), optional=True, doc="stop strings")

TEXT_DELTA = TensorSpec("TEXT_DELTA", BYTES, (1,), doc="text generated since the previous response")
FINISH_REASON = TensorSpec("FINISH_REASON", BYTES, (1,), doc='"" until the last response')
PROMPT_TOKENS = TensorSpec("PROMPT_TOKENS", INT32, (1,), doc="prompt tokens, images included")
COMPLETION_TOKENS = TensorSpec("COMPLETION_TOKENS", INT32, (1,), doc="tokens generated so far")

GENERATION = ModelContract(
    inputs=(PROMPT, MESSAGES, IMAGES, MAX_TOKENS, TEMPERATURE, TOP_P, TOP_K, SEED, STOP),
    outputs=(TEXT_DELTA, FINISH_REASON, PROMPT_TOKENS, COMPLETION_TOKENS),
    decoupled=True,
)

# Config parameters a generation model declares (string values, as Triton's schema has them).
CONTEXT_LENGTH_PARAMETER, MAX_IMAGES_PARAMETER, MODEL_ID_PARAMETER = "context_length", "max_images", "model_id"
CONFIG_PARAMETERS = (CONTEXT_LENGTH_PARAMETER, MAX_IMAGES_PARAMETER, MODEL_ID_PARAMETER)
# Optional: the image-to-code instruction the model was trained on (CodePercept-mini knows one wording;
# the platform's default instruction would be a question it has never seen).
CODE_PROMPT_PARAMETER = "code_prompt"
# Optional: the most tokens its image-to-code answers run to (CodePercept-mini's longest training target).
CODE_MAX_TOKENS_PARAMETER = "code_max_tokens"

# Chat turns of MESSAGES.
ROLES = ("system", "user", "assistant")
IMAGE_PLACEHOLDER = "<image>"

# The TokenVL models in the Triton repository; the gauge of a generation model's generations in
# flight and the counter of those stopped because the client left.
TOKENVL_MODEL, TOKENVL_VISION_MODEL = "tokenvl", "tokenvl_vision"
IN_FLIGHT_METRIC = "percept_generations_in_flight"
CANCELLED_METRIC = "percept_generations_cancelled_total"


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


@dataclass(frozen=True)
class ModelLimits:
    context_length: int
    max_images: int
    model_id: str


def encode_messages(turns: Sequence[Turn | Mapping[str, str]]) -> bytes:
    """MESSAGES' value: the turns as a UTF-8 JSON array."""
    plain = [{"role": t.role, "content": t.content} if isinstance(t, Turn) else
             {"role": t["role"], "content": t["content"]} for t in turns]
    return json.dumps(plain, ensure_ascii=False).encode()


def decode_messages(raw: bytes) -> list[Turn]:
    """MESSAGES' turns, checked; a malformed value is `[invalid_request]`."""
    def refuse(why: str) -> PerceptError:
        return PerceptError(ErrorCode.INVALID_REQUEST, f"MESSAGES {why}")

    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise refuse(f"is not UTF-8 JSON ({exc})") from None
    if not isinstance(value, list) or not value:
        raise refuse("must be a non-empty JSON array of turns")
    turns = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"role", "content"}:
            raise refuse(f"turn {index} must be an object with exactly 'role' and 'content'")
        if item["role"] not in ROLES:
            raise refuse(f"turn {index} has role {item['role']!r}, not one of {', '.join(ROLES)}")
        if not isinstance(item["content"], str):
            raise refuse(f"turn {index} content must be a string")
        if item["role"] != "user" and IMAGE_PLACEHOLDER in item["content"]:
            raise refuse(f"turn {index}: images ({IMAGE_PLACEHOLDER}) go only in user turns")
        turns.append(Turn(item["role"], item["content"]))
    return turns


def image_placeholders(turns: Sequence[Turn]) -> int:
    return sum(t.content.count(IMAGE_PLACEHOLDER) for t in turns if t.role == "user")


def model_limits(config) -> ModelLimits:
    """A generation model's limits from its config's parameters (a ModelConfig message)."""
    values = {key: config.parameters[key].string_value for key in CONFIG_PARAMETERS if key in config.parameters}
    missing = [key for key in CONFIG_PARAMETERS if key not in values]
    if missing:
        raise ValueError(f"model {config.name} declares no parameter(s) {', '.join(missing)}")
    return ModelLimits(int(values[CONTEXT_LENGTH_PARAMETER]), int(values[MAX_IMAGES_PARAMETER]),
                       values[MODEL_ID_PARAMETER])


def code_prompt(config) -> str:
    """The image-to-code instruction a generation model declares (a ModelConfig message); "" for none."""
    if CODE_PROMPT_PARAMETER not in config.parameters:   # (indexing a protobuf map would add the key)
        return ""
    return config.parameters[CODE_PROMPT_PARAMETER].string_value.strip()


def code_max_tokens(config) -> int | None:
    """The image-to-code answer length a generation model declares (a ModelConfig message); None for none.
    Raises ValueError for a declaration that is no positive integer."""
    if CODE_MAX_TOKENS_PARAMETER not in config.parameters:
        return None
    value = config.parameters[CODE_MAX_TOKENS_PARAMETER].string_value.strip()
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"model {config.name} declares {CODE_MAX_TOKENS_PARAMETER} {value!r}, not a positive integer")
    return int(value)


def _type_name(data_type: int | str) -> str:
    """A config's data type (enum number or "TYPE_X") as the contract spells it."""
    if isinstance(data_type, str):
        return data_type.removeprefix("TYPE_")
    from tritonclient.grpc import model_config_pb2 as mc

    return mc.DataType.Name(data_type).removeprefix("TYPE_")


def problems(config, contract: ModelContract = GENERATION) -> list[str]:
    """Why a model config (tritonclient's ModelConfig message) does not implement the
    contract; empty when it does. A model may declare extra optional inputs and extra outputs."""
    found = []
    if contract.decoupled and not config.model_transaction_policy.decoupled:
        found.append("not decoupled (model_transaction_policy { decoupled: true })")
    if config.max_batch_size != 0:
        found.append(f"max_batch_size is {config.max_batch_size}, the contract has no batch axis (0)")
    declared_inputs = {t.name: t for t in config.input}
    declared_outputs = {t.name: t for t in config.output}
    for spec, declared, kind in ([(s, declared_inputs, "input") for s in contract.inputs]
                                 + [(s, declared_outputs, "output") for s in contract.outputs]):
        tensor = declared.get(spec.name)
        if tensor is None:
            found.append(f"{kind} {spec.name} is missing")
            continue
        if _type_name(tensor.data_type) != spec.data_type:
            found.append(f"{kind} {spec.name} is {_type_name(tensor.data_type)}, not {spec.data_type}")
        if tuple(tensor.dims) != spec.dims:
            found.append(f"{kind} {spec.name} has dims {list(tensor.dims)}, not {list(spec.dims)}")
        if kind == "input" and bool(getattr(tensor, "optional", False)) != spec.optional:
            found.append(f"input {spec.name} must {'' if spec.optional else 'not '}be optional")
    known = {s.name for s in contract.inputs}
    for name, tensor in declared_inputs.items():
        if name not in known and not getattr(tensor, "optional", False):
            found.append(f"input {name} is not in the contract and not optional")
    return found
