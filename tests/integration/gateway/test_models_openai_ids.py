"""`GET /v1/models` as OpenAI clients read it: `id` is the served model's name and is what a chat
request sends as `model`; the first chat-capable entry (and `data[0]`) can chat; the earlier id
forms (the weights' digest, the Triton name) still name the model; code perception's generator is
listed with its own task. The gateway runs in front of the real tritonserver (the tiny seeded
models of `make models`) and the real code-perception service (reference backend) and sandbox."""
from __future__ import annotations

import base64
import re

import httpx
import openai
import pytest

from services.models.codepercept import family as codepercept_family
from services.triton import generation as contract
from tests.integration.gateway.support import running_gateway

KEY = "models-key"
DEAD_CODEPERCEPTION = "127.0.0.1:1"  # nothing listens on port 1
# The served names of `make models`' tiny fixtures (their Triton configs' `model_name`).
CHAT_MODEL, LOCATE_MODEL = "tokenvl-tiny", "tokenfd-tiny"


@pytest.fixture(scope="module")
def gateway(triton_server, stem):
    with running_gateway(triton_server.grpc_url, PERCEPT_API_KEYS=KEY,
                         PERCEPT_CODEPERCEPTION_URL=stem.codeperception_url) as url:
        yield url


@pytest.fixture(scope="module")
def client(gateway):
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key=KEY, max_retries=0, timeout=120) as http:
        yield http


def _chat(client: openai.OpenAI, model: str):
    return client.chat.completions.create(model=model, max_tokens=2, temperature=0,
                                          messages=[{"role": "user", "content": "Hello"}])


def test_the_first_chat_capable_id_chats(client):
    models = client.models.list().data
    first_chat = next(m for m in models if m.task == "chat")
    completion = _chat(client, first_chat.id)
    assert completion.model == first_chat.id == CHAT_MODEL  # answered under the id it is listed with
    assert completion.choices[0].finish_reason in ("stop", "length")


def test_data_0_is_the_chat_model(client, gateway):
    models = client.models.list().data
    assert models[0].task == "chat" and _chat(client, models[0].id).model == models[0].id
    # The same order in the raw JSON, for clients that do not use the openai package.
    raw = httpx.get(f"{gateway}/v1/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert [card["id"] for card in raw["data"]] == [m.id for m in models]


def test_ids_are_served_names_and_each_card_keeps_its_task(client):
    cards = {m.id: m for m in client.models.list().data}
    assert set(cards) >= {CHAT_MODEL, LOCATE_MODEL}
    chat, locate = cards[CHAT_MODEL], cards[LOCATE_MODEL]
    assert (chat.task, chat.triton_model, chat.name) == ("chat", contract.TOKENVL_MODEL, CHAT_MODEL)
    assert (locate.task, locate.triton_model, locate.name) == ("text-location", "tokenfd_locate", LOCATE_MODEL)
    for card in (chat, locate):
        assert card.object == "model" and card.owned_by == "percept" and card.ready is True
        assert len(card.revision) == 16 and card.revision != card.id  # the former hash id
    # ids as OpenAI's are: one token, no spaces or parentheses (the generator's once read
    # "codepercept + retrieval:retrieval-index.npz (4400 programs)")
    assert all(re.fullmatch(r"[\w.:+/-]+", card_id) for card_id in cards), sorted(cards)


def test_code_perceptions_generator_is_listed_with_its_task(client, gateway, stem):
    (generator,) = [m for m in client.models.list().data if m.task == "image-to-code"]
    assert generator.backend == "reference" and generator.triton_model is None and generator.ready is True
    # The same model the STEM route says wrote the code.
    image = next(iter(stem.images().values()))
    answer = httpx.post(f"{gateway}/v1/stem/image-to-code", headers={"X-API-Key": KEY}, timeout=120,
                        json={"image": base64.b64encode(image).decode(), "candidates": 1})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["backend"], answer.json()["model"]) == (generator.backend, generator.id)


def test_previous_id_forms_still_name_the_chat_model(client):
    chat = next(m for m in client.models.list().data if m.task == "chat")
    for previous in (chat.revision, chat.triton_model, contract.TOKENVL_MODEL):
        assert _chat(client, previous).model == chat.id, previous


def _refused_as_unknown(client: openai.OpenAI, model: str) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        _chat(client, model)
    assert unknown.value.status_code == 404 and unknown.value.code == "unknown_model", model
    assert unknown.value.param == "model"


def test_an_unknown_id_is_the_typed_404(client):
    _refused_as_unknown(client, "gpt-4o")


def test_a_listed_model_that_does_not_chat_is_the_typed_404(client):
    others = [m.id for m in client.models.list().data if m.task != "chat"]
    assert len(others) == 2  # text location and code perception's generator
    for model in others:
        _refused_as_unknown(client, model)


def test_the_list_stands_without_code_perception(triton_server):
    with running_gateway(triton_server.grpc_url, PERCEPT_CODEPERCEPTION_URL=DEAD_CODEPERCEPTION) as url:
        response = httpx.get(f"{url}/v1/models", timeout=30)
    assert response.status_code == 200, response.text
    # The configured chat model first, then CodePercept-mini's (it chats too), then text location.
    cards = response.json()["data"]
    assert [card["task"] for card in cards] == ["chat", "chat", "text-location"]
    assert [card["triton_model"] for card in cards[:2]] == [contract.TOKENVL_MODEL, codepercept_family.GENERATION_MODEL]
