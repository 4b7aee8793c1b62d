"""A renamed environment variable keeps its former name for one release: read when the new one
is unset, with a deprecation warning, and listed as deprecated in the README's table."""
from __future__ import annotations

import logging

import pytest

from gateway.settings import TRITON_URL, GatewaySettings
from services.common.settings import EnvVar, SettingsError, env, host_and_port
from services.settings_docs import markdown_table

# Built directly, not with env(): a declaration would join the README's table.
RENAMED = EnvVar("PERCEPT_TEST_ONLY_NEW", "a:1", str, "test only", "test-only", check=host_and_port,
                 deprecated_names=("PERCEPT_TEST_ONLY_OLD",))


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("PERCEPT_TEST_ONLY_NEW", "PERCEPT_TEST_ONLY_OLD", TRITON_URL.name, *TRITON_URL.deprecated_names):
        monkeypatch.delenv(name, raising=False)


def test_the_former_name_is_read_with_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("PERCEPT_TEST_ONLY_OLD", "old:2")
    with caplog.at_level(logging.WARNING, logger="percept.settings"):
        assert RENAMED.get() == "old:2"
    assert "PERCEPT_TEST_ONLY_OLD is deprecated" in caplog.text and "PERCEPT_TEST_ONLY_NEW" in caplog.text


def test_the_new_name_wins_without_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("PERCEPT_TEST_ONLY_OLD", "old:2")
    monkeypatch.setenv("PERCEPT_TEST_ONLY_NEW", "new:3")
    with caplog.at_level(logging.WARNING, logger="percept.settings"):
        assert RENAMED.get() == "new:3"
    assert "deprecated" not in caplog.text


def test_a_bad_value_under_the_former_name_names_that_variable(monkeypatch):
    monkeypatch.setenv("PERCEPT_TEST_ONLY_OLD", "no-port")
    with pytest.raises(SettingsError, match="PERCEPT_TEST_ONLY_OLD='no-port'"):
        RENAMED.get()


def test_a_former_name_cannot_be_declared_as_another_variable():
    with pytest.raises(ValueError, match="declared elsewhere"):
        env("PERCEPT_TRITON_URL", "", "test only", component="test-only")


def test_the_gateway_reads_its_triton_url_under_both_names(monkeypatch):
    assert TRITON_URL.name == "PERCEPT_GATEWAY_TRITON_URL"
    monkeypatch.setenv("PERCEPT_TRITON_URL", "triton-old:8001")
    assert GatewaySettings.from_env().triton_url == "triton-old:8001"
    monkeypatch.setenv("PERCEPT_GATEWAY_TRITON_URL", "triton-new:8001")
    assert GatewaySettings.from_env().triton_url == "triton-new:8001"


def test_the_readme_table_lists_the_former_name_as_deprecated():
    table = markdown_table()
    assert "| `PERCEPT_GATEWAY_TRITON_URL` | gateway |" in table
    assert "| `PERCEPT_TRITON_URL` | gateway | `(empty)` | Deprecated: the former name of " \
           "`PERCEPT_GATEWAY_TRITON_URL`" in table
