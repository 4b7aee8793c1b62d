"""Settings are parsed and range-checked once, into one object; bad values name the variable."""
from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from services.common.settings import EnvVar, SettingsError, load


def test_defaults_parse(monkeypatch):
    settings = GatewaySettings.from_env()
    assert settings.retry_after_s >= 1 and settings.triton_timeout_s > 0 and settings.max_body_bytes > 0


@pytest.mark.parametrize("name,value", [
    ("PERCEPT_GATEWAY_RETRY_AFTER_S", "abc"), ("PERCEPT_GATEWAY_TRITON_TIMEOUT_S", "-1"),
    ("PERCEPT_GATEWAY_TRITON_TIMEOUT_S", "nan"), ("PERCEPT_GATEWAY_PORT", "70000"), ("PERCEPT_BOX_THRESHOLD", "2"),
    ("PERCEPT_GATEWAY_TRITON_RETRIES", "-3"), ("PERCEPT_MAX_IMAGE_PIXELS", "0"),
])
def test_bad_values_raise_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        GatewaySettings.from_env()
    with pytest.raises(SettingsError, match=name):  # the app is never built with a bad value
        create_app()


def test_load_reports_every_bad_value(monkeypatch):
    monkeypatch.setenv("PERCEPT_GATEWAY_RETRY_AFTER_S", "abc")
    monkeypatch.setenv("PERCEPT_GATEWAY_TRITON_TIMEOUT_S", "-1")
    with pytest.raises(SettingsError) as info:
        load("gateway")
    assert "PERCEPT_GATEWAY_RETRY_AFTER_S" in str(info.value) and "PERCEPT_GATEWAY_TRITON_TIMEOUT_S" in str(info.value)


def test_check_runs_on_parsed_values(monkeypatch):
    def even(value: int) -> None:
        if value % 2:
            raise ValueError("must be even")

    # Built directly, not with env(): a declaration would join the README's table.
    var = EnvVar("PERCEPT_TEST_ONLY_EVEN", 2, int, "test only", "test-only", check=even)
    monkeypatch.setenv("PERCEPT_TEST_ONLY_EVEN", "3")
    with pytest.raises(SettingsError, match="PERCEPT_TEST_ONLY_EVEN.*must be even"):
        var.get()
    monkeypatch.setenv("PERCEPT_TEST_ONLY_EVEN", "4")
    assert var.get() == 4
