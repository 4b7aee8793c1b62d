"""TokenFD fixtures: the tiny seeded checkpoint and its export come from the
session-wide `tokenfd_artifacts` (tests/conftest.py), so they are built once per run."""
import pytest


@pytest.fixture(scope="session")
def tiny_checkpoint(tokenfd_artifacts):
    return tokenfd_artifacts.checkpoint


@pytest.fixture(scope="session")
def tiny_export(tokenfd_artifacts):
    return tokenfd_artifacts.export


@pytest.fixture(scope="session")
def fixture_tokenizer_model(tmp_path_factory):
    from services.models.tokenfd.fixtures import train_fixture_tokenizer

    path = tmp_path_factory.mktemp("tokenizer") / "tokenizer.model"
    path.write_bytes(train_fixture_tokenizer())
    return path
