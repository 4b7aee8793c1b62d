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
