"""The model-family registry: the built-in families in order, each family's models named once,
PERCEPT_MODEL_FAMILIES appending more, and a bad entry refused with its name."""
import pytest

from services.models import registry
from services.models.codepercept import family as codepercept
from services.models.family import ModelTask
from services.models.tokenfd.triton import contract as tokenfd
from services.triton import generation


def test_the_built_in_families_and_what_they_serve(monkeypatch):
    monkeypatch.delenv("PERCEPT_MODEL_FAMILIES", raising=False)
    assert [f.name for f in registry.families()] == ["tokenfd", "codepercept", "tokenvl"]
    assert registry.family("tokenfd").tasks == (ModelTask.text_location,)
    assert registry.family("tokenfd").probed() == (tokenfd.TOKENFD_LOCATE, tokenfd.TOKENFD_ENCODER)
    assert registry.family("tokenvl").probed() == registry.family("codepercept").probed() == ()
    # CodePercept-mini first: code perception's triton backend generates with the first chat model served
    assert registry.models_with_task(ModelTask.chat) == (codepercept.GENERATION_MODEL, generation.TOKENVL_MODEL)


def test_extra_families_come_after_the_built_in_ones(monkeypatch):
    monkeypatch.setenv("PERCEPT_MODEL_FAMILIES", "tests.integration.families.thirdfamily")
    assert [f.name for f in registry.families()] == ["tokenfd", "codepercept", "tokenvl", "thirdfamily"]
    assert registry.models_with_task(ModelTask.chat) == (codepercept.GENERATION_MODEL, generation.TOKENVL_MODEL,
                                                         "third_caesar")


@pytest.mark.parametrize("value, message", [
    ("no.such.module", "cannot be imported"),
    ("services.models.family", "exports no FAMILY"),
    ("services.models.tokenfd.family", None),  # a built-in named again is not a second copy
])
def test_a_bad_entry_is_named(monkeypatch, value, message):
    monkeypatch.setenv("PERCEPT_MODEL_FAMILIES", value)
    if message is None:
        assert [f.name for f in registry.families()] == ["tokenfd", "codepercept", "tokenvl"]
        return
    with pytest.raises(ValueError, match=message):
        registry.families()


def test_two_families_may_not_serve_one_triton_model():
    from services.models.tokenfd.family import FAMILY

    with pytest.raises(ValueError, match="same Triton models: tokenfd_encoder, tokenfd_locate"):
        registry._check_unique([m.name for f in (FAMILY, FAMILY) for m in f.models], "Triton models")
