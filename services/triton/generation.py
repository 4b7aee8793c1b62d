"""The generation contract: how any text-generation model served by this platform's Triton
looks from outside. The one source of truth for the model-repository builder (which turns
it into a config's inputs and outputs: services.triton.repository.apply_contract) and for
the client (services/codeperception/backends/triton.py, which checks a served model's
config against it with `problems()` before using it).

A generation model is **decoupled** (model_transaction_policy { decoupled: true }): one
request, a stream of responses. Every response carries the next TEXT_DELTA; the last one
also carries FINISH_REASON and the token counts, and is flagged final.

    in   PROMPT             BYTES [1]    UTF-8 instruction (the chat template is the model's business)
    in   IMAGES             BYTES [-1]   encoded images (PNG/JPEG), in prompt order; optional
    in   MAX_TOKENS         INT32 [1]    optional; the model's default when absent
    in   TEMPERATURE        FP32  [1]    optional; 0 = greedy
    in   TOP_P              FP32  [1]    optional
    in   SEED               INT64 [1]    optional; unseeded when absent
    in   STOP               BYTES [-1]   optional stop strings
    out  TEXT_DELTA         BYTES [1]    UTF-8 text generated since the previous response
    out  FINISH_REASON      BYTES [1]    "" until the last response; then "stop", "length" or "error"
    out  PROMPT_TOKENS      INT32 [1]    tokens of the prompt (images included)
    out  COMPLETION_TOKENS  INT32 [1]    tokens generated so far

Shapes are without a batch axis (max_batch_size 0): one request is one prompt.
The TokenVL generation model (a later issue) implements it; until one is in the
repository, the code-perception service refuses to start with the `triton` backend.
"""
from __future__ import annotations

from dataclasses import dataclass

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


PROMPT = TensorSpec("PROMPT", BYTES, (1,), doc="UTF-8 instruction")
IMAGES = TensorSpec("IMAGES", BYTES, (-1,), optional=True, doc="encoded images, in prompt order")
MAX_TOKENS = TensorSpec("MAX_TOKENS", INT32, (1,), optional=True, doc="most tokens to generate")
TEMPERATURE = TensorSpec("TEMPERATURE", FP32, (1,), optional=True, doc="sampling temperature; 0 = greedy")
TOP_P = TensorSpec("TOP_P", FP32, (1,), optional=True, doc="nucleus sampling")
SEED = TensorSpec("SEED", INT64, (1,), optional=True, doc="sampling seed")
STOP = TensorSpec("STOP", BYTES, (-1,), optional=True, doc="stop strings")

TEXT_DELTA = TensorSpec("TEXT_DELTA", BYTES, (1,), doc="text generated since the previous response")
FINISH_REASON = TensorSpec("FINISH_REASON", BYTES, (1,), doc='"" until the last response')
PROMPT_TOKENS = TensorSpec("PROMPT_TOKENS", INT32, (1,), doc="prompt tokens, images included")
COMPLETION_TOKENS = TensorSpec("COMPLETION_TOKENS", INT32, (1,), doc="tokens generated so far")

GENERATION = ModelContract(
    inputs=(PROMPT, IMAGES, MAX_TOKENS, TEMPERATURE, TOP_P, SEED, STOP),
    outputs=(TEXT_DELTA, FINISH_REASON, PROMPT_TOKENS, COMPLETION_TOKENS),
    decoupled=True,
)
FINISH_REASONS = ("stop", "length", "error")


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
