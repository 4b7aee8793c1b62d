"""The `triton` backend's default max_tokens fits the served model's context: the protocol's
16384 is over the tiny TokenVL's whole context (8192), which the model would refuse for
every request."""
import pytest

from services.codeperception.backends.triton import TritonGenerationBackend
from services.codeperception.settings import CodePerceptionSettings


def backend(monkeypatch, max_tokens: int) -> TritonGenerationBackend:
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_MAX_TOKENS", str(max_tokens))
    return TritonGenerationBackend(CodePerceptionSettings.from_env())


def test_a_max_tokens_over_the_context_is_halved_to_leave_room_for_the_prompt(monkeypatch):
    assert backend(monkeypatch, 16384)._fitting_max_tokens(8192) == 4096
    assert backend(monkeypatch, 8192)._fitting_max_tokens(8192) == 4096


def test_a_max_tokens_that_fits_is_kept(monkeypatch):
    assert backend(monkeypatch, 1024)._fitting_max_tokens(8192) == 1024


def test_the_answer_length_a_model_declares_is_asked_for_when_it_fits(monkeypatch):
    """CodePercept-mini (context 1536) declares code_max_tokens 1024, its longest training target: half
    the context (768) would cut its longer programs."""
    assert backend(monkeypatch, 16384)._fitting_max_tokens(1536, 1024) == 1024
    assert backend(monkeypatch, 16384)._fitting_max_tokens(1536, 4096) == 768   # over the context: halved
    assert backend(monkeypatch, 512)._fitting_max_tokens(1536, 1024) == 512     # a configured one that fits wins


def test_a_declared_answer_length_is_read_from_the_config():
    from tritonclient.grpc import model_config_pb2 as mc

    from services.triton import generation
    from services.triton.repository import set_parameters

    config = mc.ModelConfig(name="m")
    assert generation.code_max_tokens(config) is None
    set_parameters(config, {generation.CODE_MAX_TOKENS_PARAMETER: "1024"})
    assert generation.code_max_tokens(config) == 1024
    set_parameters(config, {generation.CODE_MAX_TOKENS_PARAMETER: "lots"})
    with pytest.raises(ValueError, match="not a positive integer"):
        generation.code_max_tokens(config)
