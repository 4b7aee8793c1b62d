"""Code perception's backends come from one registry (backends/registry.py): the setting's choices,
the factory and the backend_options table all read it; the `triton` backend's default among several
generation models follows the model-family registry and is never a start-up failure."""
import dataclasses

import pytest

from services.codeperception import settings as cp_settings
from services.codeperception.backends import BackendUnavailable, create_backend
from services.codeperception.backends.base import BACKEND_OPTIONS
from services.codeperception.backends.registry import BACKEND_NAMES, BACKENDS
from services.codeperception.backends.triton import preferred_model
from services.codeperception.settings import CodePerceptionSettings
from services.triton import generation


def test_every_registered_backend_is_created_by_its_name(monkeypatch):
    settings = CodePerceptionSettings.from_env()
    for entry in BACKENDS:
        backend = create_backend(dataclasses.replace(settings, backend=entry.name))
        assert backend.name == entry.name and type(backend).__name__ == entry.class_name


def test_an_unknown_backend_is_refused_by_name():
    settings = dataclasses.replace(CodePerceptionSettings.from_env(), backend="nope")
    with pytest.raises(BackendUnavailable, match="unknown backend 'nope'"):
        create_backend(settings)


def test_the_setting_and_the_options_table_read_the_registry():
    assert cp_settings.BACKENDS == BACKEND_NAMES
    assert set(BACKEND_OPTIONS) == set(BACKEND_NAMES)


def test_the_default_generation_model_is_the_registrys_first_chat_model():
    assert preferred_model(["a_model", generation.TOKENVL_MODEL, "b_model"]) == generation.TOKENVL_MODEL
    # CodePercept-mini, trained for this task, before the TokenVL it is built like (the registry's order)
    assert preferred_model([generation.TOKENVL_MODEL, "codepercept", "a_model"]) == "codepercept"
    assert preferred_model(["b_model", "a_model"]) == "a_model"  # no family's chat model: first by name
    assert preferred_model(["only"]) == "only"


def test_a_bad_family_list_is_a_clear_start_up_refusal(monkeypatch):
    monkeypatch.setenv("PERCEPT_MODEL_FAMILIES", "no.such.module")
    with pytest.raises(BackendUnavailable, match="no.such.module"):
        preferred_model(["a", "b"])
