"""TokenVL's serving modules (what the Triton python models import) never load torch or
transformers; serving the tiny model in-process does not either."""
from tests.torch_free import assert_runs_without_torch

SERVING_MODULES = ["services.models.tokenvl.artifacts", "services.models.tokenvl.config",
                   "services.models.tokenvl.tokens", "services.models.tokenvl.fixtures",
                   "services.models.tokenvl.triton.decoder", "services.models.tokenvl.triton.detokenize",
                   "services.models.tokenvl.triton.sampling", "services.models.tokenvl.triton.generation",
                   "services.models.tokenvl.triton.repository"]


def test_serving_modules_and_a_generation_do_not_import_torch(tokenfd_artifacts):
    assert_runs_without_torch(
        "import importlib\n"
        f"for module in {SERVING_MODULES!r}:\n"
        "    importlib.import_module(module)\n"
        "from services.models.tokenvl.triton.generation import TokenVLGeneration, TokenVLRequest\n"
        f"g = TokenVLGeneration.from_directory({str(tokenfd_artifacts.tokenvl_export)!r}, context_length=8192,"
        " max_images=4)\n"
        "chunks = list(g.stream(g.prepare(TokenVLRequest(prompt='hi', max_tokens=3)), None))\n"
        "assert chunks[-1].finish_reason")
