"""The official `openai` client against the gateway, in front of the real tritonserver serving the
real `tokenvl` model (the tiny seeded fixture from `make models`: its answers are noise, so the
checks are on the protocol, the usage and the agreement between streaming and not, never on text
quality). Auth is on: the client sends `Authorization: Bearer <key>`."""
from __future__ import annotations

import base64

import openai
import pytest

from services.triton import generation as contract
from tests.integration.gateway.support import png, running_gateway

KEY = "chat-key"


@pytest.fixture(scope="module")
def gateway(triton_server):
    with running_gateway(triton_server.grpc_url, PERCEPT_API_KEYS=KEY) as url:
        yield url


@pytest.fixture(scope="module")
def client(gateway):
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key=KEY, max_retries=0, timeout=120) as http:
        yield http


def _page(seed: int = 0) -> dict:
    data = base64.b64encode(png(96, 64, seed=seed)).decode()
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


def _question(*images: dict) -> list[dict]:
    return [{"role": "user", "content": [*images, {"type": "text", "text": "What does the page say?"}]}]


def test_models_are_listed_in_openais_shape(client):
    models = {m.id: m for m in client.models.list().data}
    chat = [m for m in models.values() if getattr(m, "triton_model", None) == contract.TOKENVL_MODEL]
    assert len(chat) == 1 and chat[0].object == "model" and chat[0].owned_by == "percept"
    assert chat[0].task == "chat" and chat[0].ready is True and isinstance(chat[0].created, int)
    assert any(m.task == "text-location" for m in models.values())  # what was listed before stays


def test_a_completion_and_its_stream_agree(client):
    messages = _question(_page(1), _page(2))
    completion = client.chat.completions.create(model=contract.TOKENVL_MODEL, messages=messages, max_tokens=12,
                                                temperature=0)
    choice = completion.choices[0]
    assert completion.object == "chat.completion" and choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage.completion_tokens >= 1 and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens > 2 * 256  # two images of at least one tile (256 visual tokens) each
    listed = [m.id for m in client.models.list().data if getattr(m, "triton_model", None) == contract.TOKENVL_MODEL]
    assert [completion.model] == listed  # answered under the id it is listed with

    chunks = list(client.chat.completions.create(
        model=completion.model, messages=messages, max_tokens=12, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == choice.message.content  # greedy: the same tokens either way
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [choice.finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == usage.model_dump()


def test_a_stream_without_include_usage_has_no_usage(client):
    chunks = list(client.chat.completions.create(model=contract.TOKENVL_MODEL, max_tokens=3, stream=True,
                                                 messages=[{"role": "user", "content": "Hello"}]))
    assert chunks and all(c.usage is None for c in chunks)


def test_client_errors_map_to_the_clients_exceptions(client, gateway):
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=_question())
    assert unknown.value.status_code == 404 and unknown.value.code == "unknown_model"
    assert unknown.value.param == "model"

    with pytest.raises(openai.BadRequestError) as unsupported:
        client.chat.completions.create(model=contract.TOKENVL_MODEL, messages=[{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}])
    assert unsupported.value.code == "unsupported_content"
    assert unsupported.value.param == "messages.0.content.0.type"

    with pytest.raises(openai.BadRequestError) as streamed:  # refused before the stream starts
        list(client.chat.completions.create(model=contract.TOKENVL_MODEL, stream=True, messages=[
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]))
    assert streamed.value.code == "url_not_allowed"

    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="wrong", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.chat.completions.create(model=contract.TOKENVL_MODEL, messages=_question())
