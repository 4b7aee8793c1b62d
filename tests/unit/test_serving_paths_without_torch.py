"""Serving paths never import torch: the gateway and the Triton python models must run in
images that do not ship it."""
import pytest

from tests.torch_free import assert_runs_without_torch

SERVING_MODULES = [
    "gateway.app",
    "services.models.tokenfd.triton.contract",
    "services.models.tokenfd.triton.locate",
    "services.models.tokenfd.triton.encoder_runtime",
    "services.models.tokenfd.triton.repository",
    "services.triton.errors",
    "services.triton.launcher",
    "services.triton.repository",
    "services.devstack",
    "services.models.tokenfd.preprocess",
    "services.models.tokenfd.tokenizer",
    "services.models.tokenfd.query_matches",
    "percept_sandbox.server",
    "services.codeperception.fidelity",
    "services.codeperception.captions",
    "services.codeperception.server",
    "services.codeperception.client",
    "services.codeperception.backends.openai_chat",
    "services.codeperception.backends.reference",
    "services.codeperception.backends.triton",
    "services.codeperception.backends.retrieval",
    "services.common.grpc_errors",
    "services.triton.generation",
    "services.triton.generation_client",
    # what the evaluation and data-engine pods import (TokenVL's serving modules: tests/unit/tokenvl)
    "services.evaluation.cli",
    "services.evaluation.synth.cli",
]


@pytest.mark.parametrize("module", SERVING_MODULES)
def test_module_does_not_import_torch(module):
    assert_runs_without_torch(f"import importlib; importlib.import_module({module!r})")


def test_triton_python_models_do_not_import_torch():
    from pathlib import Path

    sources = Path(__file__).resolve().parents[2] / "model_repository"
    for model in sources.glob("*/model.py"):
        text = model.read_text()
        assert "import torch" not in text and "transformers" not in text, model
