"""Several served models implementing the generation contract are a choice, never a start-up
failure: the `triton` backend starts on the setting's model, or, unset, on the model families'
first chat model, else the first by name. A real tritonserver serves two scripted generation
models (test_triton_backend.py's) and the real service starts against it. One of them declares the
instruction it was trained on (the contract's `code_prompt`): the service asks it in those words unless
an instruction is configured; the other gets the platform's default instruction."""
from __future__ import annotations

import pytest
from tritonclient.grpc import model_config_pb2 as mc

from services.codeperception.prompt import DEFAULT_PROMPT
from services.codeperception.protos import codeperception_pb2 as pb
from services.triton import generation
from services.triton.repository import FamilyEntries, ModelEntry, apply_contract, build_repository, set_parameters

from .harness import CodePerceptionServer
from .test_triton_backend import ANSWER, MODEL_SOURCE, PIECES

MODELS = ("b_scripted", "a_scripted")
OWN_WORDING = "Draw this in matplotlib."   # a_scripted's code_prompt


@pytest.fixture(scope="module")
def two_generation_models(tmp_path_factory, triton_stub_site):
    from services.triton.launcher import TritonServer

    entries = []
    for name in MODELS:
        config = apply_contract(mc.ModelConfig(name=name, backend="python", max_batch_size=0), generation.GENERATION)
        config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU, count=1))
        set_parameters(config, {"answer": ANSWER, "pieces": PIECES})
        if name == "a_scripted":
            set_parameters(config, {generation.CODE_PROMPT_PARAMETER: OWN_WORDING})
        entries.append(ModelEntry(config, {"1/model.py": MODEL_SOURCE}))
    repository = build_repository(tmp_path_factory.mktemp("two") / "repository", "cpu",
                                  [FamilyEntries("scripted", entries)])
    with TritonServer(repository, http_port=0, grpc_port=0, metrics_port=0) as server:
        yield server


@pytest.mark.parametrize("setting, chosen", [("", "a_scripted"), ("b_scripted", "b_scripted")])
def test_the_service_starts_on_one_of_several(sandbox, two_generation_models, setting, chosen):
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="triton",
                              PERCEPT_CODEPERCEPTION_TRITON_URL=two_generation_models.grpc_url,
                              PERCEPT_CODEPERCEPTION_TRITON_MODEL=setting) as service, service.channel() as channel:
        generator = service.stub(channel).GetGenerator(pb.GetGeneratorRequest(), timeout=10)
    assert (generator.backend, generator.model) == ("triton", chosen)


@pytest.mark.parametrize("model, configured, sent", [
    ("a_scripted", "", OWN_WORDING),                         # the model's own wording
    ("a_scripted", "Redraw the figure.", "Redraw the figure."),  # the configuration wins
    ("b_scripted", "", DEFAULT_PROMPT),                       # no wording declared: the platform's default
])
def test_a_model_is_asked_in_the_words_it_declares(sandbox, sample_dataset, two_generation_models, model,
                                                    configured, sent):
    image = (sample_dataset / "images" / "s01_sine_cosine.png").read_bytes()
    with CodePerceptionServer(sandbox.target, PERCEPT_CODEPERCEPTION_BACKEND="triton",
                              PERCEPT_CODEPERCEPTION_TRITON_URL=two_generation_models.grpc_url,
                              PERCEPT_CODEPERCEPTION_TRITON_MODEL=model,
                              PERCEPT_CODEPERCEPTION_PROMPT=configured) as service, service.channel() as channel:
        response = service.stub(channel).ImageToCode(pb.ImageToCodeRequest(image=image), timeout=120)
    (candidate,) = response.candidates
    assert candidate.usage.prompt_tokens == len(sent.encode())   # the scripted model counts the prompt's bytes
