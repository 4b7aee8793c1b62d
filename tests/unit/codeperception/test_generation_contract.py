"""The generation contract is one spec read by the repository builder and by the client's check."""
from tritonclient.grpc import model_config_pb2 as mc

from services.triton import generation
from services.triton.repository import apply_contract, parse, render


def _model() -> mc.ModelConfig:
    return apply_contract(mc.ModelConfig(name="tokenvl_generate", backend="python"), generation.GENERATION)


def test_a_config_built_from_the_spec_implements_it_and_survives_text_format():
    config = parse(render(_model()))
    assert generation.problems(config) == []
    assert config.model_transaction_policy.decoupled
    names = [t.name for t in config.input]
    assert names == [t.name for t in generation.GENERATION.inputs]
    assert config.input[names.index("PROMPT")].data_type == mc.TYPE_STRING
    assert config.input[names.index("PROMPT")].optional  # exactly one of PROMPT and MESSAGES
    assert all(config.input[names.index(t.name)].optional for t in generation.GENERATION.inputs if t.optional)
    assert [t.name for t in config.output] == ["TEXT_DELTA", "FINISH_REASON", "PROMPT_TOKENS", "COMPLETION_TOKENS"]


def test_what_breaks_the_contract_is_named():
    config = _model()
    config.model_transaction_policy.decoupled = False
    config.max_batch_size = 8
    del config.output[0]
    config.input[0].data_type = mc.TYPE_INT32
    config.input.add(name="EXTRA", data_type=mc.TYPE_FP32, dims=[1])
    problems = generation.problems(config)
    assert "not decoupled (model_transaction_policy { decoupled: true })" in problems
    assert "max_batch_size is 8, the contract has no batch axis (0)" in problems
    assert "output TEXT_DELTA is missing" in problems
    assert "input PROMPT is INT32, not STRING" in problems
    assert "input EXTRA is not in the contract and not optional" in problems


def test_tokenfd_models_do_not_implement_it():
    from services.models.tokenfd.triton.repository import locate_config

    assert "input PROMPT is missing" in generation.problems(locate_config())
