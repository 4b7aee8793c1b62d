"""`make up`'s image-to-code default end to end, with the trained model: CodePercept-mini as committed in
models/codepercept-mini (its weights and the retrieval index published beside them) built as `make models`
builds it, a real tritonserver serving it, a sandbox server, the code-perception service on the `verified`
backend (the backend `make up` chooses when the index is published) and a gateway in front.

- A held-out engine figure (engine seed 1: programs the model and the index never saw) gets a render whose
  fidelity beats a blank canvas's, scored against the same figure by the same gateway, by a wide margin.
- Its candidates hold the retrieved programs and the model's samples, each saying where it came from.
- A generation ends on the model's stop token: the finish reason is `stop`, through code perception and
  through the OpenAI-compatible chat endpoint.

Without the published model the tests are skipped, saying so (a fork without trained weights)."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import pytest

from services.models.codepercept.config import CODE_QUESTION, INDEX_FILE, NAME

pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED = ROOT / "models" / "codepercept-mini"
SKIP_REASON = "needs the trained CodePercept-mini and its index (models/codepercept-mini: make publish-codepercept)"
HELDOUT_SEED = 1                           # the engine's held-out corpus (make data-codepercept's)
FAMILIES = ("bar_chart", "function_plot", "pie_chart")
DPI = 100                                  # the corpus's (services/models/codepercept/corpus.py)
WIDE_MARGIN = 0.2                          # of aggregate fidelity, in [0, 1]
BLANK = "import matplotlib.pyplot as plt\nfig = plt.figure(figsize=({w:.2f}, {h:.2f}))\nplt.show()\n"


@pytest.fixture(scope="module")
def published() -> Path:
    if not ((PUBLISHED / "config.json").is_file() and (PUBLISHED / INDEX_FILE).is_file()):
        pytest.skip(SKIP_REASON)
    return PUBLISHED


@pytest.fixture(scope="module")
def stack(published, tmp_path_factory, triton_stub_site):
    """(gateway client, the sandbox server): the stack make up runs, code perception on `verified`."""
    from services.models.build_default import build_families
    from services.triton.launcher import TritonServer
    from tests.integration.gateway.stem_support import stem_stack
    from tests.integration.gateway.support import running_gateway

    built = build_families(tmp_path_factory.mktemp("codepercept-default"), checkpoints={"codepercept": published},
                           skip=("tokenvl",), log=lambda *_: None)
    with TritonServer(built.repository, http_port=0, grpc_port=0, metrics_port=0) as triton, \
            stem_stack(service_env={"PERCEPT_CODEPERCEPTION_BACKEND": "verified",
                                    "PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX": str(published / INDEX_FILE),
                                    "PERCEPT_CODEPERCEPTION_TRITON_URL": triton.grpc_url}) as stem, \
            running_gateway(triton.grpc_url, PERCEPT_CODEPERCEPTION_URL=stem.codeperception_url) as url, \
            httpx.Client(base_url=url, timeout=300) as http:
        yield http, stem.sandbox


@pytest.fixture(scope="module")
def heldout(stack) -> list[tuple[str, bytes]]:
    """(family, PNG) of held-out engine programs, rendered by the stack's sandbox at the corpus's dpi."""
    from services.codeperception.sample_dataset import client_renderer
    from services.evaluation.synth import corpus

    _, sandbox = stack
    with sandbox.client() as client:
        render = client_renderer(client, DPI)
        return [(program.family, render(program.code))
                for program in corpus.programs(HELDOUT_SEED, FAMILIES, range(len(FAMILIES)))]


def _image_to_code(http: httpx.Client, png: bytes, **options) -> dict:
    response = http.post("/v1/stem/image-to-code", json={"image": base64.b64encode(png).decode(), **options})
    assert response.status_code == 200, response.text
    return response.json()


def _blank_fidelity(http: httpx.Client, png: bytes) -> float:
    """A blank canvas of the figure's own size, scored against it as any candidate is."""
    from PIL import Image

    width, height = Image.open(io.BytesIO(png)).size
    code = BLANK.format(w=width / DPI, h=height / DPI)
    response = http.post("/v1/stem/score", json={"reference_image": base64.b64encode(png).decode(),
                                                 "candidate_code": code, "dpi": DPI})
    assert response.status_code == 200, response.text
    return response.json()["fidelity"]["aggregate"]


def test_a_heldout_figure_is_redrawn_far_better_than_a_blank_canvas(stack, heldout):
    http, _ = stack
    refined = 0
    for family, png in heldout:
        answer = _image_to_code(http, png, seed=0)
        assert answer["backend"] == "verified" and answer["code"], answer
        blank = _blank_fidelity(http, png)
        assert answer["fidelity"]["aggregate"] >= blank + WIDE_MARGIN, (family, answer["fidelity"], blank)
        last = answer["candidates"][-1]
        if last["origin"] == "refined":   # the default refines the best program's numbers (16 renders)
            refined += 1
            parent = answer["candidates"][last["refined_from"]]
            assert answer["best_index"] == len(answer["candidates"]) - 1
            assert last["fidelity"]["aggregate"] > parent["fidelity"]["aggregate"], (family, last["detail"])
    assert refined, "the default refined none of the held-out figures"


def test_retrieved_and_sampled_candidates_both_compete(stack, heldout):
    http, _ = stack
    _, png = heldout[0]
    answer = _image_to_code(http, png, candidates=2, seed=3, temperature=0.7)
    origins = [candidate["origin"] for candidate in answer["candidates"]]
    assert "retrieval" in origins and origins.count("model") == 2, origins
    for candidate in answer["candidates"]:
        if candidate["origin"] == "retrieval":
            assert candidate["neighbour"]["family"] and candidate["finish_reason"] in ("", "stop")
        elif candidate["origin"] == "model":
            assert candidate["usage"]["completion_tokens"] > 0
        else:   # the refinement of the best, which comes last
            assert candidate["origin"] == "refined" and candidate["refined_from"] < len(answer["candidates"]) - 1
    assert answer["best_index"] in range(len(answer["candidates"]))


def test_the_stop_token_ends_a_generation(stack, heldout):
    http, _ = stack
    _, png = heldout[0]
    answer = _image_to_code(http, png, seed=0, temperature=0)
    (greedy,) = [c for c in answer["candidates"] if c["origin"] == "model"]
    assert greedy["finish_reason"] == "stop", greedy
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    chat = http.post("/v1/chat/completions", json={
        "model": NAME, "temperature": 0, "max_tokens": 1024,
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri}},
                                                  {"type": "text", "text": CODE_QUESTION}]}]})
    assert chat.status_code == 200, chat.text
    choice = chat.json()["choices"][0]
    assert choice["finish_reason"] == "stop" and "```python" in choice["message"]["content"]
