"""Several served models implementing the generation contract are a choice, never a start-up
failure: the `triton` backend starts on the setting's model, or, unset, on the model families'
first chat model, else the first by name. A real tritonserver serves two scripted generation
models (test_triton_backend.py's) and the real service starts against it."""
from __future__ import annotations

import pytest
from tritonclient.grpc import model_config_pb2 as mc

from services.codeperception.protos import codeperception_pb2 as pb
from services.triton import generation
from services.triton.repository import FamilyEntries, ModelEntry, apply_contract, build_repository, set_parameters

from .harness import CodePerceptionServer
from .test_triton_backend import ANSWER, MODEL_SOURCE, PIECES

MODELS = ("b_scripted", "a_scripted")


@pytest.fixture(scope="module")
def two_generation_models(tmp_path_factory, triton_stub_site):
    from services.triton.launcher import TritonServer

    entries = []
    for name in MODELS:
        config = apply_contract(mc.ModelConfig(name=name, backend="python", max_batch_size=0), generation.GENERATION)
        config.instance_group.append(mc.ModelInstanceGroup(kind=mc.ModelInstanceGroup.KIND_CPU, count=1))
        set_parameters(config, {"answer": ANSWER, "pieces": PIECES})
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
