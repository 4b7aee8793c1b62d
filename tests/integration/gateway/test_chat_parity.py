"""Greedy parity through the gateway: what the official `openai` client gets from chat completions,
and what document VQA answers, equal the transformers reference generation on the same tiny seeded
weights, token for token (the tokenvl model's Triton-level parity is tests/integration/tokenvl).

The reference prompt is built by the model's own serving logic (TokenVLGeneration.prepare, the
InternVL2.5 template and tiling) from the turns the gateway is expected to send, written out here;
the reference is then `generate_greedy` (transformers `generate`, SDPA) on the checkpoint the served
model was exported from. Random weights: the text is noise, the same noise on both sides."""
from __future__ import annotations

import base64
import io

import openai
import pytest
from PIL import Image

from services.triton import generation as contract
from tests.integration.gateway.support import png, running_gateway

MAX_TOKENS = 12


@pytest.fixture(scope="module")
def gateway(triton_server):
    with running_gateway(triton_server.grpc_url) as url:
        yield url


@pytest.fixture(scope="module")
def reference(tokenfd_artifacts):
    """generate(request) -> (text, completion tokens, prompt tokens) of the transformers reference."""
    import torch

    from services.models.tokenvl.checkpoint import load_model
    from services.models.tokenvl.tokens import Tokenizer
    from services.models.tokenvl.triton.generation import TokenVLGeneration, TokenVLRequest

    model, _ = load_model(tokenfd_artifacts.tokenvl_checkpoint)
    tokenizer = Tokenizer.from_file(tokenfd_artifacts.tokenvl_export / "tokenizer.json")
    serving = TokenVLGeneration.from_directory(tokenfd_artifacts.tokenvl_export, context_length=8192, max_images=4)

    def generate(**request):
        prepared = serving.prepare(TokenVLRequest(**request))
        pixels = None if prepared.pixel_values is None else torch.from_numpy(prepared.pixel_values)
        ids = model.generate_greedy(prepared.prompt.ids, pixels, img_context_id=tokenizer.img_context_id,
                                    stop_ids=[tokenizer.im_end_id], max_new_tokens=MAX_TOKENS)
        ids = [i for i in ids if i != tokenizer.im_end_id]
        return tokenizer.decode(ids), len(ids), len(prepared.prompt.ids)

    return generate


def _solid(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_chat_through_the_openai_client_equals_the_reference(gateway, reference):
    # One tile; two tiles and the thumbnail. Far apart in content (black, white), so that the tiny
    # model's answer depends on which image is where (two noise images give it the same features).
    first, second = _solid(448, 448, (0, 0, 0)), _solid(896, 448, (255, 255, 255))
    expected = reference(messages=[contract.Turn("system", "You read documents."),
                                   contract.Turn("user", "<image>\n<image>\nWhich page has the table?")],
                         images=[first, second])
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused", max_retries=0, timeout=120) as client:
        answer = client.chat.completions.create(
            model=contract.TOKENVL_MODEL, max_tokens=MAX_TOKENS, temperature=0, messages=[
                {"role": "system", "content": "You read documents."},
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": _data_uri(first)}},
                                             {"type": "image_url", "image_url": {"url": _data_uri(second)}},
                                             {"type": "text", "text": "Which page has the table?"}]}])
    usage = answer.usage
    assert (answer.choices[0].message.content, usage.completion_tokens, usage.prompt_tokens) == expected


@pytest.mark.parametrize("images", [
    pytest.param([], id="text-only"),
    pytest.param([(448, 448, (0, 0, 0))], id="one-tile"),
    pytest.param([(1344, 896, (255, 255, 255))], id="several-tiles-and-thumbnail"),
])
def test_single_turn_chat_equals_the_reference(gateway, reference, images):
    pictures = [_solid(*spec) for spec in images]
    placeholders = "".join(f"{contract.IMAGE_PLACEHOLDER}\n" for _ in pictures)
    expected = reference(messages=[contract.Turn("user", placeholders + "Read the title.")], images=pictures)
    content = ([{"type": "image_url", "image_url": {"url": _data_uri(p)}} for p in pictures]
               + [{"type": "text", "text": "Read the title."}])
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused", max_retries=0, timeout=120) as client:
        answer = client.chat.completions.create(model=contract.TOKENVL_MODEL, max_tokens=MAX_TOKENS, temperature=0,
                                                messages=[{"role": "user", "content": content}])
    usage = answer.usage
    assert (answer.choices[0].message.content, usage.completion_tokens, usage.prompt_tokens) == expected

def test_vqa_equals_the_reference(gateway, reference):
    import httpx

    page = png(300, 620, seed=4)
    expected = reference(prompt="What is the total?", images=[page])
    response = httpx.post(f"{gateway}/v1/documents/vqa", timeout=120, data={
        "question": "What is the total?", "max_tokens": str(MAX_TOKENS)}, files={"images": ("p.png", page)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["answer"], body["usage"]["completion_tokens"], body["usage"]["prompt_tokens"]) == expected
