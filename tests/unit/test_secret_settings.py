"""Secret settings read from a file (NAME_FILE, a mounted Secret) or from the variable itself."""
from __future__ import annotations

import pytest

from gateway.settings import API_KEYS, GatewaySettings
from services.codeperception.settings import OPENAI_API_KEY, CodePerceptionSettings
from services.common.settings import EnvVar, SettingsError, env, parse_csv, registered
from services.evaluation.settings import JUDGE_API_KEY
from services.settings_docs import markdown_table

# Built directly, not with env(): a declaration would join the README's table.
TOKEN = EnvVar("PERCEPT_TEST_ONLY_TOKEN", "", str, "test only", "test-only", secret=True)
TOKEN_FILE = "PERCEPT_TEST_ONLY_TOKEN_FILE"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("PERCEPT_TEST_ONLY_TOKEN", TOKEN_FILE):
        monkeypatch.delenv(name, raising=False)


def test_the_plain_variable_keeps_working(monkeypatch):
    monkeypatch.setenv("PERCEPT_TEST_ONLY_TOKEN", "s3cret")
    assert TOKEN.get() == "s3cret"
    assert TOKEN.file_variable == TOKEN_FILE


def test_the_file_is_read_with_trailing_newlines_stripped(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")  # what `echo s3cret > token` and most editors write
    monkeypatch.setenv(TOKEN_FILE, str(secret))
    assert TOKEN.get() == "s3cret"
    secret.write_text("s3cret\r\n\n")
    assert TOKEN.get() == "s3cret"
    secret.write_text("  inner space stays  ")
    assert TOKEN.get() == "  inner space stays  "


def test_an_empty_file_means_the_default(monkeypatch, tmp_path):
    """As an empty variable does: the chart's Secret holds an empty key list while auth is off."""
    secret = tmp_path / "token"
    secret.write_text("\n")
    monkeypatch.setenv(TOKEN_FILE, str(secret))
    assert TOKEN.get() == ""


def test_setting_both_is_an_error(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-file")
    monkeypatch.setenv(TOKEN_FILE, str(secret))
    monkeypatch.setenv("PERCEPT_TEST_ONLY_TOKEN", "from-variable")
    with pytest.raises(SettingsError, match="PERCEPT_TEST_ONLY_TOKEN and PERCEPT_TEST_ONLY_TOKEN_FILE are both set") \
            as info:
        TOKEN.get()
    assert "from-file" not in str(info.value) and "from-variable" not in str(info.value)


@pytest.mark.parametrize("make", ["missing", "directory", "unreadable", "not-utf8"])
def test_an_unreadable_file_is_a_clear_error(monkeypatch, tmp_path, make):
    path = tmp_path / "token"
    if make == "directory":
        path.mkdir()
    elif make == "unreadable":
        path.write_text("s3cret")
        path.chmod(0)
    elif make == "not-utf8":
        path.write_bytes(b"\xff\xfe s3cret")
    monkeypatch.setenv(TOKEN_FILE, str(path))
    if make == "unreadable":
        try:
            path.read_text()  # root reads any file: the permission case cannot be made here
            pytest.skip("running as root")
        except PermissionError:
            pass
    with pytest.raises(SettingsError, match=rf"PERCEPT_TEST_ONLY_TOKEN_FILE='{path}': cannot read the file") \
            as info:
        TOKEN.get()
    assert "s3cret" not in str(info.value)


def test_a_secret_value_is_never_echoed_in_a_parse_error(monkeypatch):
    def short(value: str) -> None:
        if len(value) > 3:
            raise ValueError("too long")

    var = EnvVar("PERCEPT_TEST_ONLY_TOKEN", "", str, "test only", "test-only", check=short, secret=True)
    monkeypatch.setenv("PERCEPT_TEST_ONLY_TOKEN", "s3cret")
    with pytest.raises(SettingsError, match="PERCEPT_TEST_ONLY_TOKEN is invalid: too long") as info:
        var.get()
    assert "s3cret" not in str(info.value)


def test_a_plain_setting_has_no_file_variant(monkeypatch, tmp_path):
    var = EnvVar("PERCEPT_TEST_ONLY_TOKEN", "default", str, "test only", "test-only")
    secret = tmp_path / "token"
    secret.write_text("from-file")
    monkeypatch.setenv(TOKEN_FILE, str(secret))
    assert var.get() == "default"


def test_a_secret_file_variable_cannot_be_declared_twice():
    with pytest.raises(ValueError, match="clashes"):
        env("PERCEPT_API_KEYS_FILE", "", "test only", component="test-only")


def test_the_platform_secrets_are_marked_and_in_the_readme_table():
    secrets = {var.name for var in registered() if var.secret}
    assert {API_KEYS.name, OPENAI_API_KEY.name, JUDGE_API_KEY.name} <= secrets
    table = markdown_table()
    for name in secrets:
        assert f"| `{name}_FILE` |" in table


def test_the_gateway_reads_its_api_keys_from_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv(API_KEYS.name, raising=False)
    keys = tmp_path / "api-keys"
    keys.write_text("k1, k2\n")
    monkeypatch.setenv(API_KEYS.file_variable, str(keys))
    assert GatewaySettings.from_env().api_keys == parse_csv("k1,k2") == ("k1", "k2")
    monkeypatch.setenv(API_KEYS.file_variable, str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match="PERCEPT_API_KEYS_FILE"):
        GatewaySettings.from_env()


def test_code_perception_reads_its_openai_key_from_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv(OPENAI_API_KEY.name, raising=False)
    key = tmp_path / "api-key"
    key.write_text("sk-test\n")
    monkeypatch.setenv(OPENAI_API_KEY.file_variable, str(key))
    assert CodePerceptionSettings.from_env().openai_api_key == "sk-test"
