"""The service's settings: parsed once into a frozen object, bad values named at start-up, the key kept secret."""
import dataclasses

import pytest

from services.codeperception.settings import CodePerceptionSettings
from services.common.settings import SettingsError


def test_defaults_are_the_protocols_sampling_values(monkeypatch):
    for name in ("PERCEPT_CODEPERCEPTION_BACKEND", "PERCEPT_CODEPERCEPTION_TEMPERATURE"):
        monkeypatch.delenv(name, raising=False)
    settings = CodePerceptionSettings.from_env()
    sampling = settings.sampling
    assert (sampling.temperature, sampling.top_p, sampling.top_k) == (0.7, 0.8, 20)
    assert (sampling.repetition_penalty, sampling.presence_penalty) == (1.0, 1.5)
    assert (settings.grpc_port, settings.metrics_port, settings.backend) == (50071, 9471, "reference")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.backend = "openai"


def test_every_bad_value_is_named(monkeypatch):
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_BACKEND", "gpt")
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_GRPC_PORT", "70000")
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_TOP_P", "1.5")
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL", "ftp://x")
    with pytest.raises(SettingsError) as caught:
        CodePerceptionSettings.from_env()
    for name in ("BACKEND='gpt'", "GRPC_PORT='70000'", "TOP_P='1.5'", "OPENAI_BASE_URL='ftp://x'"):
        assert f"PERCEPT_CODEPERCEPTION_{name}" in str(caught.value)


def test_the_api_key_is_not_in_the_repr(monkeypatch):
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_OPENAI_API_KEY", "sk-very-secret")
    settings = CodePerceptionSettings.from_env()
    assert settings.openai_api_key == "sk-very-secret"
    assert "sk-very-secret" not in repr(settings)


def test_the_refinement_budget_is_the_backends_unless_configured_and_never_above_the_cap(monkeypatch):
    from services.codeperception.backends.registry import VERIFIED_REFINE_RENDERS

    for name in ("PERCEPT_CODEPERCEPTION_REFINE_RENDERS", "PERCEPT_MAX_REFINE_RENDERS"):
        monkeypatch.delenv(name, raising=False)
    assert VERIFIED_REFINE_RENDERS > 0
    assert CodePerceptionSettings.from_env(backend="verified").refine_renders == VERIFIED_REFINE_RENDERS
    assert CodePerceptionSettings.from_env(backend="openai").refine_renders == 0
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_REFINE_RENDERS", "0")
    assert CodePerceptionSettings.from_env(backend="verified").refine_renders == 0
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_REFINE_RENDERS", "40")
    monkeypatch.setenv("PERCEPT_MAX_REFINE_RENDERS", "24")
    assert CodePerceptionSettings.from_env(backend="openai").refine_renders == 24
    monkeypatch.setenv("PERCEPT_CODEPERCEPTION_REFINE_RENDERS", "-1")
    with pytest.raises(SettingsError, match="PERCEPT_CODEPERCEPTION_REFINE_RENDERS"):
        CodePerceptionSettings.from_env()
