"""OpenAI chat request -> generation-contract request (gateway/chat_convert.py), and the contract's
input tensors (services/triton/generation_client.py). No Triton needed: pure conversion."""
from __future__ import annotations

import asyncio
import base64
import json

import pytest
from tritonclient.utils import deserialize_bytes_tensor

from gateway.chat_convert import generation_request, parse_chat_request, stop_strings
from gateway.chat_schemas import ChatCompletionRequest
from gateway.image_urls import ImageFetcher
from services.common.errors import ErrorCode, PerceptError
from services.triton import generation as contract
from services.triton.generation_client import GenerationRequest, build_inputs
from tests.integration.gateway.support import png, png_header_only

LIMITS = contract.ModelLimits(context_length=512, max_images=3, model_id="m")


def _data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _request(*messages, **fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": "m", "messages": list(messages), **fields})


def _image(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def _convert(request: ChatCompletionRequest, **limits) -> GenerationRequest:
    async def run():
        fetcher = ImageFetcher((), timeout_s=1, max_bytes=1 << 20)
        try:
            return await generation_request(request, limits=LIMITS, fetcher=fetcher, **{
                "max_images": 8, "max_tokens": 100, "max_pixels": 1_000_000, **limits})
        finally:
            await fetcher.close()
    return asyncio.run(run())


def _refusal(call) -> PerceptError:
    with pytest.raises(PerceptError) as caught:
        call()
    return caught.value


def test_parts_become_turns_with_one_placeholder_per_image_in_order():
    a, b = png(8, 8, seed=1), png(8, 8, seed=2)
    request = _request({"role": "developer", "content": "be brief"},
                       {"role": "user", "content": [_image(_data_uri(a)), {"type": "text", "text": "and"},
                                                    _image(_data_uri(b)), {"type": "text", "text": "compare"}]},
                       {"role": "assistant", "content": "ok"}, {"role": "user", "content": "why?"},
                       max_completion_tokens=7, stop="END", temperature=0.5, top_k=3, seed=9)
    converted = _convert(request)
    assert [(t.role, t.content) for t in converted.messages] == [
        ("system", "be brief"), ("user", "<image>\nand\n<image>\ncompare"), ("assistant", "ok"), ("user", "why?")]
    assert list(converted.images) == [a, b]
    assert (converted.max_tokens, converted.stop, converted.temperature, converted.top_k, converted.seed) == \
        (7, ("END",), 0.5, 3, 9)
    assert contract.image_placeholders(converted.messages) == len(converted.images)


@pytest.mark.parametrize("message, code, param", [
    ({"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}, ErrorCode.UNSUPPORTED_CONTENT,
     "messages.0.content.0.type"),
    ({"role": "tool", "content": "x"}, ErrorCode.UNSUPPORTED_CONTENT, "messages.0.role"),
    ({"role": "", "content": "x"}, ErrorCode.UNSUPPORTED_CONTENT, "messages.0.role"),
    ({"role": "system", "content": [_image("data:image/png;base64,AA==")]}, ErrorCode.UNSUPPORTED_CONTENT,
     "messages.0.content.0.type"),
    ({"role": "user", "content": "look: <image>"}, ErrorCode.INVALID_REQUEST, "messages.0.content"),
    ({"role": "user", "content": [{"type": "text", "text": "<image>"}]}, ErrorCode.INVALID_REQUEST,
     "messages.0.content.0.text"),
    ({"role": "user", "content": [{"type": "text"}]}, ErrorCode.INVALID_REQUEST, "messages.0.content.0.text"),
    ({"role": "user"}, ErrorCode.INVALID_REQUEST, "messages.0.content"),
    ({"role": "user", "content": None}, ErrorCode.INVALID_REQUEST, "messages.0.content"),
])
def test_what_the_model_cannot_take_is_refused_by_the_schema_naming_the_field(message, code, param):
    body = json.dumps({"model": "m", "messages": [message]}).encode()
    error = _refusal(lambda: parse_chat_request(body))
    assert (error.code, error.details["param"]) == (code, param)


def test_limits():
    image = _image(_data_uri(png(8, 8)))
    four = _request({"role": "user", "content": [image] * 4})
    assert _refusal(lambda: _convert(four)).code is ErrorCode.TOO_MANY_IMAGES            # the model's 3
    assert _refusal(lambda: _convert(_request({"role": "user", "content": [image] * 2}), max_images=1)).code \
        is ErrorCode.TOO_MANY_IMAGES                                                      # the gateway's 1
    text = {"role": "user", "content": "hi"}
    assert _refusal(lambda: _convert(_request(text, max_tokens=101))).details["param"] == "max_tokens"
    assert _convert(_request(text, max_tokens=100)).max_tokens == 100
    assert _refusal(lambda: _convert(_request(text, max_tokens=600), max_tokens=1000)).code \
        is ErrorCode.CONTEXT_LENGTH_EXCEEDED
    big = _request({"role": "user", "content": [_image(_data_uri(png_header_only(5000, 5000)))]})
    assert _refusal(lambda: _convert(big)).code is ErrorCode.IMAGE_TOO_LARGE
    junk = _request({"role": "user", "content": [_image(_data_uri(b"not an image"))]})
    error = _refusal(lambda: _convert(junk))
    assert (error.code, error.details["param"]) == (ErrorCode.INVALID_IMAGE, "messages.0.content.0.image_url")


def test_stop_strings():
    assert stop_strings(None) == () and stop_strings("a") == ("a",) and stop_strings(["a", "b"]) == ("a", "b")
    for stop in (["a"] * 5, "", ["a", ""]):  # more than four, or an empty one: refused by the schema
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": stop}).encode()
        assert _refusal(lambda body=body: parse_chat_request(body)).details["param"].startswith("stop")


def _tensors(request: GenerationRequest) -> dict:
    return {t.name(): (t.datatype(), t.shape()) for t in build_inputs(request)}


def test_contract_inputs_carry_only_what_is_set():
    assert _tensors(GenerationRequest(prompt="q")) == {"PROMPT": ("BYTES", [1])}
    full = GenerationRequest(messages=[contract.Turn("user", "<image><image>x")], images=(b"a", b"b"),
                             max_tokens=5, temperature=0.0, top_p=0.9, top_k=4, seed=-1, stop=("x", "y"))
    assert _tensors(full) == {"MESSAGES": ("BYTES", [1]), "IMAGES": ("BYTES", [2]), "MAX_TOKENS": ("INT32", [1]),
                              "TEMPERATURE": ("FP32", [1]), "TOP_P": ("FP32", [1]), "TOP_K": ("INT32", [1]),
                              "SEED": ("INT64", [1]), "STOP": ("BYTES", [2])}
    for spec in contract.GENERATION.inputs:  # every tensor matches its declaration in the contract
        if spec.name in _tensors(full):
            expected = "BYTES" if spec.data_type == contract.BYTES else spec.data_type
            assert _tensors(full)[spec.name][0] == expected


def test_messages_and_images_travel_as_the_contract_says():
    turns = [contract.Turn("system", "s"), contract.Turn("user", "é <image>")]
    tensors = {t.name(): deserialize_bytes_tensor(t._raw_content)  # what goes on the wire
               for t in build_inputs(GenerationRequest(messages=turns, images=(b"i1", b"i2"), stop=("x",)))}
    assert contract.decode_messages(tensors["MESSAGES"][0]) == turns
    assert list(tensors["IMAGES"]) == [b"i1", b"i2"] and list(tensors["STOP"]) == [b"x"]


def test_exactly_one_of_prompt_and_messages():
    with pytest.raises(ValueError):
        GenerationRequest()
    with pytest.raises(ValueError):
        GenerationRequest(prompt="a", messages=[contract.Turn("user", "b")])


def test_stream_errors_are_typed():
    from services.triton.errors import map_triton_error
    from services.triton.generation_client import ModelError, model_error

    refused = model_error("[context_length_exceeded] 9000 tokens")
    assert isinstance(refused, ModelError) and refused.code is ErrorCode.CONTEXT_LENGTH_EXCEEDED
    assert refused.message == "9000 tokens"
    assert model_error("[internal] tokenvl failed").code is ErrorCode.UPSTREAM_ERROR  # the model's bug: a 502
    assert model_error("segfault").code is ErrorCode.UPSTREAM_ERROR
    assert map_triton_error("connect failed", "StatusCode.UNAVAILABLE").code is ErrorCode.UPSTREAM_UNAVAILABLE
    assert map_triton_error("", "StatusCode.DEADLINE_EXCEEDED").code is ErrorCode.UPSTREAM_TIMEOUT
    assert map_triton_error("[invalid_image] bad", "StatusCode.INVALID_ARGUMENT").code is ErrorCode.INVALID_IMAGE
