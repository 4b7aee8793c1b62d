"""CodePercept-mini served through Triton's generation contract as its own model family
(services/models/codepercept/family.py): the recipe trains a checkpoint for 3 steps at the tests'
miniature sizes (plumbing, not a model), `make models`' builder builds the family from it, a real
tritonserver serves it as `codepercept` over `codepercept_vision`, and a real gateway reaches it.

- The generation model calls its own vision model and serves the numbers the checkpoint records
  (one tile, the system message it was trained with).
- `/v1/models` lists it under its recorded name, as a chat model.
- A chat request naming it, with a figure and the code question, is answered at temperature 0 with
  what the trained model generates greedily (PyTorch, the checkpoint through TokenVL's strict loader)
  from the very prompt and tile its training samples were built with, token for token, under the same
  code guard (the names the recipe recorded).
- Sampling with a seed repeats itself and the seed matters."""
from __future__ import annotations

import base64
import dataclasses
import json

import httpx
import pytest
import torch

from services.models.codepercept.config import CODE_QUESTION, SYSTEM_MESSAGE, Recipe
from services.models.codepercept.family import GENERATION_MODEL, VISION_MODEL, recorded
from services.models.codepercept.train import Trainer
from services.models.tokenvl.artifacts import CODE_GUARD_PARAMETER, VISION_MODEL_PARAMETER
from services.models.tokenvl.triton.code_guard import GuardRules
from services.models.tokenvl.triton.lockstep import DECODE_PASSES_METRIC, DECODE_TOKENS_METRIC
from services.triton import generation
from tests.integration.gateway.support import running_gateway
from tests.prometheus_text import sample_total, scrape
from tests.unit.codepercept_mini.conftest import make_corpora, tiny_sizes

pytestmark = pytest.mark.timeout(600)

FAMILIES = "services.models.codepercept.family"
DEAD = "127.0.0.1:1"  # nothing listens on port 1: no code perception here
MAX_TOKENS = 16


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(trainer, checkpoint directory): 3 steps on 4 engine programs."""
    root = tmp_path_factory.mktemp("codepercept-served")
    train, heldout = make_corpora(root)
    recipe = dataclasses.replace(Recipe(), steps=3, batch=2, threads=1, eval_every=3, eval_samples=2,
                                 decode_samples=1, warmup=1, lr=3e-3, code_guard=True)
    trainer = Trainer(train, heldout, root / "run", recipe, sizes=tiny_sizes, log=lambda *_: None)
    return trainer, trainer.run(progress=False)


@pytest.fixture(scope="module")
def built(trained, tmp_path_factory):
    from services.models.build_default import build_families

    with pytest.MonkeyPatch.context() as env:
        env.setenv("PERCEPT_MODEL_FAMILIES", FAMILIES)
        return build_families(tmp_path_factory.mktemp("codepercept-build"), checkpoints={"codepercept": trained[1]},
                              skip=("tokenvl",), log=lambda *_: None)


@pytest.fixture(scope="module")
def served(built, triton_stub_site):
    """(the tritonserver serving the build, a client of a gateway in front of it that knows the family)"""
    from services.triton.launcher import TritonServer

    triton = TritonServer(built.repository, http_port=0, grpc_port=0, metrics_port=0)
    with triton, running_gateway(triton.grpc_url, PERCEPT_MODEL_FAMILIES=FAMILIES,
                                 PERCEPT_CODEPERCEPTION_URL=DEAD) as url:
        with httpx.Client(base_url=url, timeout=120) as http:
            yield triton, http


@pytest.fixture(scope="module")
def triton(served):
    return served[0]


@pytest.fixture(scope="module")
def gateway(served):
    return served[1]


def _name(trained) -> str:
    """The name the recipe recorded (the sizes' name: the miniature's)."""
    return trained[0].config.name


def _figure(trainer) -> bytes:
    return trainer.heldout.samples[0].image.read_bytes()


def _chat(http: httpx.Client, model: str, figure: bytes, **sampling) -> dict:
    uri = "data:image/png;base64," + base64.b64encode(figure).decode()
    response = http.post("/v1/chat/completions", json={
        "model": model, "max_tokens": MAX_TOKENS, **sampling,
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri}},
                                                  {"type": "text", "text": CODE_QUESTION}]}]})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_generation_model_calls_its_own_vision_model_with_the_recorded_numbers(triton, trained):
    import tritonclient.grpc as grpcclient

    with grpcclient.InferenceServerClient(triton.grpc_url) as client:
        assert client.is_model_ready(VISION_MODEL) and not client.is_model_ready("tokenvl_vision")
        parameters = client.get_model_config(GENERATION_MODEL).config.parameters
    assert parameters[VISION_MODEL_PARAMETER].string_value == VISION_MODEL
    assert parameters["max_tiles"].string_value == "1"
    assert parameters["system_message"].string_value == SYSTEM_MESSAGE
    # code perception asks it the question it was trained on (the generation contract's code_prompt)
    assert parameters[generation.CODE_PROMPT_PARAMETER].string_value == CODE_QUESTION
    # ... and for programs as long as its longest training target, not the context's half
    assert parameters[generation.CODE_MAX_TOKENS_PARAMETER].string_value == str(trained[0].recipe.max_target_tokens)
    assert parameters["model_name"].string_value == _name(trained) == "codepercept-tiny"
    # its code guard lets programs read unbound the names its training programs read so (keyword arguments),
    # and keeps the lists they keep parallel (a table's row names and rows)
    rules = GuardRules.from_entry(json.loads(parameters[CODE_GUARD_PARAMETER].string_value))
    entry = recorded(trained[1])["code_guard"]
    assert rules == GuardRules.from_entry(entry) and "color=" in rules.free_names
    assert entry["refused_programs"] == 0   # its corpus keeps to every rule


def test_models_lists_it_by_its_recorded_name_as_a_chat_model(gateway, trained):
    listed = gateway.get("/v1/models")
    assert listed.status_code == 200, listed.text
    card = {card["id"]: card for card in listed.json()["data"]}[_name(trained)]
    assert (card["task"], card["triton_model"], card["ready"]) == ("chat", GENERATION_MODEL, True)


def test_greedy_chat_equals_the_trained_model_on_its_training_prompt(gateway, trained):
    from services.models.codepercept.data import pixel_values
    from services.models.tokenvl.checkpoint import load_model
    from services.models.tokenvl.triton.code_guard import token_texts

    trainer, checkpoint = trained
    model, _ = load_model(checkpoint)
    figure = _figure(trainer)
    prompt = trainer.heldout.prompt_ids("code", 1)          # what training samples start with
    tokenizer = trainer.tokenizer
    with torch.no_grad():
        ids = model.generate_greedy(prompt, pixel_values(figure), img_context_id=tokenizer.img_context_id,
                                    stop_ids=[tokenizer.im_end_id], max_new_tokens=MAX_TOKENS,
                                    guard=(GuardRules.from_entry(recorded(checkpoint)["code_guard"]).guard(),
                                           token_texts(tokenizer)))
    ids = [i for i in ids if i != tokenizer.im_end_id]
    answer = _chat(gateway, _name(trained), figure, temperature=0)
    assert answer["model"] == _name(trained)
    assert answer["usage"]["prompt_tokens"] == len(prompt)
    assert (answer["choices"][0]["message"]["content"], answer["usage"]["completion_tokens"]) == \
        (tokenizer.decode(ids), len(ids))


def test_sampling_with_a_seed_repeats_and_the_seed_matters(gateway, trained):
    figure = _figure(trained[0])
    def sampled(seed: int) -> str:
        answer = _chat(gateway, _name(trained), figure, temperature=1.0, top_p=0.95, seed=seed)
        return answer["choices"][0]["message"]["content"]

    answers = {seed: [sampled(seed) for _ in range(2)] for seed in (1, 2, 3)}
    assert all(first == second for first, second in answers.values())
    assert len({first for first, _ in answers.values()}) > 1


def test_best_of_n_requests_share_one_vision_pass_and_decode_in_lockstep(gateway, triton, trained):
    """N samples of one figure (only the seed differs, sent at once, as best of N sends them): the
    generation model runs its vision model once for all of them (services/triton/shared_results.py),
    and they decode as the rows of one batch (services/models/tokenvl/triton/lockstep.py)."""
    import io
    from concurrent.futures import ThreadPoolExecutor

    import tritonclient.grpc as grpcclient
    from PIL import Image, ImageOps

    original = Image.open(io.BytesIO(_figure(trained[0]))).convert("RGB")

    def new_figure(burst: int) -> bytes:
        """The figure mirrored, with a corner of this burst's own colour: no kept result answers for it."""
        image = ImageOps.mirror(original)
        image.paste((burst * 40 % 256, 7, 99), (0, 0, 4, 4))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()

    def vision_passes() -> int:
        with grpcclient.InferenceServerClient(triton.grpc_url) as client:
            (stats,) = client.get_inference_statistics(VISION_MODEL).model_stats
        return stats.inference_stats.success.count

    def decoding() -> tuple[float, float]:
        """(passes, tokens) of the generation model's decoder so far (lockstep.py's counters)."""
        text = scrape(triton.metrics_url)
        labels = {"model": GENERATION_MODEL}
        return (sample_total(text, DECODE_PASSES_METRIC, labels) or 0.0,
                sample_total(text, DECODE_TOKENS_METRIC, labels) or 0.0)

    def burst(figure: bytes) -> list[str]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda seed: _chat(gateway, _name(trained), figure, temperature=1.0, seed=seed)
                                 ["choices"][0]["message"]["content"], range(4)))

    before = vision_passes()
    answers = burst(new_figure(0))
    assert vision_passes() - before == 1
    assert len(set(answers)) > 1    # each still samples its own tokens

    # Lockstep takes the requests that arrive while the prefill runs, and this miniature model's prefill
    # is a millisecond or two, so on a busy machine a burst's requests can all miss each other's. Up to 5
    # bursts: at least one decodes in lockstep, a pass decoding a token for several requests (each request
    # alone, every burst has as many tokens as passes).
    batched = []
    for number in range(1, 6):
        passes_before, tokens_before = decoding()
        burst(new_figure(number))
        passes, tokens = decoding()
        assert passes > passes_before
        batched.append(tokens - tokens_before > passes - passes_before)
        if batched[-1]:
            break
    assert any(batched), batched
