"""The served `tokenvl` model (real tritonserver, the repository `make models` builds) against
the transformers reference on the same tiny seeded weights, and the generation contract's
behaviour: streaming, sampling options, max_tokens, stop strings, typed errors, cancellation.

The weights are random (a plumbing fixture): the text is noise, but the same noise on both
sides, token for token."""
from __future__ import annotations

import time
from itertools import pairwise

import pytest
import torch

from services.models.tokenvl.triton.generation import TokenVLRequest
from services.triton import generation as contract
from tests.prometheus_text import sample_total, scrape

from .conftest import png

MAX_TOKENS = 24
CASES = {
    "text only": TokenVLRequest(prompt="What is the invoice total?"),
    "one tile": TokenVLRequest(prompt="Read the title.", images=[png(448, 448, 1)]),
    "tiles + thumbnail": TokenVLRequest(prompt="Summarise the page.", images=[png(896, 448, 2)]),
    "two images": TokenVLRequest(prompt="Compare the two pages.", images=[png(448, 448, 3), png(300, 620, 4)]),
}


def reference(tokenvl_reference, tokenvl_generation, request: TokenVLRequest, max_tokens: int) -> list[int]:
    model, tokenizer = tokenvl_reference
    prepared = tokenvl_generation.prepare(request)
    pixels = None if prepared.pixel_values is None else torch.from_numpy(prepared.pixel_values)
    ids = model.generate_greedy(prepared.prompt.ids, pixels, img_context_id=tokenizer.img_context_id,
                                stop_ids=[tokenizer.im_end_id], max_new_tokens=max_tokens)
    return [i for i in ids if i != tokenizer.im_end_id], prepared


@pytest.mark.parametrize("case", list(CASES))
def test_greedy_through_triton_equals_the_transformers_reference(case, stream, tokenvl_reference,
                                                                 tokenvl_generation):
    request = CASES[case]
    expected, prepared = reference(tokenvl_reference, tokenvl_generation, request, MAX_TOKENS)
    result = stream.generate(PROMPT=request.prompt, IMAGES=list(request.images) or None, MAX_TOKENS=MAX_TOKENS)
    assert result.error is None, result.error
    tokenizer = tokenvl_reference[1]
    assert result.token_ids == expected            # token for token
    assert result.completion_tokens == len(expected)
    assert result.text == tokenizer.decode(expected)
    assert result.prompt_tokens == len(prepared.prompt.ids)
    assert result.finish_reason == ("length" if len(expected) == MAX_TOKENS else "stop")
    tiles = 0 if prepared.pixel_values is None else prepared.pixel_values.shape[0]
    assert prepared.prompt.image_tokens == 256 * tiles
    assert len(result.deltas) > 1   # streamed, not one block


def test_messages_bind_images_to_placeholders_in_order(stream, tokenvl_reference, tokenvl_generation):
    first, second = png(448, 448, 5), png(448, 448, 6)
    turns = [{"role": "system", "content": "You read documents."},
             {"role": "user", "content": "Page one: <image>\nPage two: <image>\nWhich page has the table?"}]
    expected, _ = reference(tokenvl_reference, tokenvl_generation, TokenVLRequest(
        messages=contract.decode_messages(contract.encode_messages(turns)), images=[first, second]), 12)
    result = stream.generate(MESSAGES=contract.encode_messages(turns), IMAGES=[first, second], MAX_TOKENS=12)
    assert result.token_ids == expected
    swapped = stream.generate(MESSAGES=contract.encode_messages(turns), IMAGES=[second, first], MAX_TOKENS=12)
    assert swapped.text != result.text   # the order of IMAGES is the order of the placeholders


def test_sampling_is_reproducible_with_a_seed_and_top_k_1_is_greedy(stream):
    prompt = dict(PROMPT="Describe the chart.", MAX_TOKENS=16)
    greedy = stream.generate(**prompt).text
    sampled = stream.generate(**prompt, TEMPERATURE=1.5, TOP_P=0.95, SEED=7).text
    assert stream.generate(**prompt, TEMPERATURE=1.5, TOP_P=0.95, SEED=7).text == sampled
    others = {stream.generate(**prompt, TEMPERATURE=1.5, TOP_P=0.95, SEED=seed).text for seed in (8, 9)}
    assert others != {sampled} and sampled != greedy
    assert stream.generate(**prompt, TEMPERATURE=1.5, TOP_K=1, SEED=3).text == greedy


def test_concurrent_generations_interleave_and_each_equals_its_sequential_run(stream):
    # Prompts whose generations (the seeded fixture's) run to MAX_TOKENS: each streams in about ten
    # responses. One that met its stop token after 18 tokens ended in two, and left too few to interleave.
    prompts = [dict(PROMPT=f"Question {i} about the table.", MAX_TOKENS=600) for i in (5, 8, 16)]
    alone = [stream.generate(**p) for p in prompts]
    assert [r.finish_reason for r in alone] == ["length"] * len(prompts)   # long enough to interleave
    first = stream.count + 1
    for p in prompts:
        stream.send(**p)
    together = stream.collect_all(len(prompts))
    assert [together[str(first + i)].text for i in range(len(prompts))] == [r.text for r in alone]
    # Streamed at once, the responses of different requests interleave: served one after the other,
    # each request's responses would come in one block, with len(prompts) - 1 switches between blocks.
    switches = sum(a != b for a, b in pairwise(stream.arrival))
    assert switches >= len(prompts), stream.arrival[:40]


def test_max_tokens_and_stop_strings(stream):
    full = stream.generate(PROMPT="List the items.", MAX_TOKENS=20)
    assert (full.finish_reason, full.completion_tokens) == ("length", 20)
    cut = full.text[len(full.text) // 2:][:3]
    stopped = stream.generate(PROMPT="List the items.", MAX_TOKENS=20, STOP=[cut, "never appears"])
    assert stopped.finish_reason == "stop"
    assert stopped.text == full.text[:full.text.index(cut)]
    assert stopped.completion_tokens < 20


@pytest.mark.parametrize("values, code", [
    (dict(), "invalid_request"),
    (dict(PROMPT="a", MESSAGES=b'[{"role": "user", "content": "b"}]'), "invalid_request"),
    (dict(MESSAGES=b"not json"), "invalid_request"),
    (dict(MESSAGES=b'[{"role": "user", "content": "no placeholder"}]', IMAGES=[b"x"]), "invalid_request"),
    (dict(PROMPT="a", IMAGES=[b"not an image"]), "invalid_image"),
    (dict(PROMPT="a", IMAGES=[png(8, 8, 0)] * 5), "too_many_images"),
    (dict(PROMPT="a", MAX_TOKENS=9000), "context_length_exceeded"),
    (dict(PROMPT="forged <IMG_CONTEXT> token"), "unsupported_content"),
    (dict(PROMPT="a", TOP_P=0.0), "invalid_request"),
])
def test_bad_requests_get_typed_errors(stream, values, code):
    result = stream.generate(**values)
    assert result.error is not None and f"[{code}]" in result.error, result.error


def test_the_config_carries_the_limits(triton_server):
    import tritonclient.grpc as grpcclient

    config = grpcclient.InferenceServerClient(triton_server.grpc_url).get_model_config(contract.TOKENVL_MODEL).config
    assert contract.problems(config) == []
    limits = contract.model_limits(config)
    assert (limits.context_length, limits.max_images) == (8192, 4) and len(limits.model_id) == 16


def _metric(server, name):
    return sample_total(scrape(server.metrics_url), name, {"model": contract.TOKENVL_MODEL}) or 0.0


LONG_PROMPT = "Read the title."


def test_the_long_prompt_runs_to_max_tokens_when_not_cancelled(stream):
    """What the cancellation test relies on: left alone, its generation ends at max_tokens."""
    assert stream.generate(PROMPT=LONG_PROMPT, MAX_TOKENS=1500).finish_reason == "length"


def _wait_for_in_flight(server, value, timeout_s=10.0):
    """The gauge drops just after a request's last response is sent, so a test waits for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _metric(server, contract.IN_FLIGHT_METRIC) != value:
        time.sleep(0.05)
    return _metric(server, contract.IN_FLIGHT_METRIC)


def test_cancelling_the_stream_stops_the_generation(triton_server, stream):
    assert _wait_for_in_flight(triton_server, 0) == 0   # the previous tests' requests have ended
    cancelled_before = _metric(triton_server, "percept_generations_cancelled_total")
    # Greedy on this prompt, the fixture never emits <|im_end|>: it would run all 7000 tokens
    # (seconds), so only the cancellation can end it early (the counter tells which it was).
    stream.send(PROMPT=LONG_PROMPT, MAX_TOKENS=7000)
    for _ in range(3):
        response, error = stream.next()
        assert error is None
    assert _metric(triton_server, contract.IN_FLIGHT_METRIC) == 1
    stream.cancel()
    assert _wait_for_in_flight(triton_server, 0) == 0
    assert _metric(triton_server, "percept_generations_cancelled_total") == cancelled_before + 1
