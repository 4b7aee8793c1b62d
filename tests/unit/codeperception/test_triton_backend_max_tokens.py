"""The `triton` backend's default max_tokens fits the served model's context: the protocol's
16384 is over the tiny TokenVL's whole context (8192), which the model would refuse for
every request."""
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
