"""TokenVL's stop path, driven by a decoder whose logits force the next token.

The tiny seeded model never samples <|im_end|> within a test's token budget, so the stop
path is exercised here with a scripted decoder in the decoder's place (the seam
TokenVLGeneration takes): its logits put all the mass on the next id of a script. The
script goes on after the stop with text that must never be generated, and max_tokens
leaves room for it, so a loop that ignores the stop ends with "length" and extra text.
"""
from __future__ import annotations

import numpy as np
import pytest

from services.models.tokenvl.fixtures import train_fixture_tokenizer
from services.models.tokenvl.tokens import IM_END, Tokenizer
from services.models.tokenvl.triton.generation import TokenVLGeneration, TokenVLRequest

TEXT = "The total is 42, see the second row."
AFTER_STOP = " LEAKED past the stop token"
HIDDEN = 8
ROOM = 8   # max_tokens beyond the stop: what an ignored stop would generate


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer as HFTokenizer

    return Tokenizer(HFTokenizer.from_str(train_fixture_tokenizer()))


class ScriptedDecoder:
    """The prompt's logits and each step's have the script's next id as their argmax (greedy
    sampling takes it), its last id once it has run out; records the ids it is stepped with and
    whether the request's row was left (`join`'s seat)."""

    def __init__(self, script: list[int], vocab_size: int) -> None:
        self.script = script
        self.vocab_size = vocab_size
        self.stepped: list[int] = []
        self.left = 0

    def embed(self, ids, image_features, img_context_id):
        return np.zeros((1, len(ids), HIDDEN), np.float32)

    def join(self, embeds, capacity):
        return self

    @property
    def first_logits(self) -> np.ndarray:
        return self._logits(0)

    def step(self, token):
        self.stepped.append(int(token))
        return self._logits(len(self.stepped))

    def leave(self):
        self.left += 1

    def _logits(self, position: int) -> np.ndarray:
        logits = np.zeros(self.vocab_size, np.float32)
        logits[self.script[min(position, len(self.script) - 1)]] = 30.0
        return logits


def generate(tokenizer, script: list[int], *, max_tokens: int, stops=()):
    decoder = ScriptedDecoder(script, tokenizer.vocab_size)
    generation = TokenVLGeneration(tokenizer, decoder, context_length=4096, max_images=1,
                                   max_image_pixels=1 << 20)
    prepared = generation.prepare(TokenVLRequest(prompt="Read the table.", max_tokens=max_tokens,
                                                    stops=list(stops)))
    return list(generation.stream(prepared, None)), decoder


def test_the_stop_token_is_im_end(tokenizer):
    generation = TokenVLGeneration(tokenizer, None, context_length=64, max_images=1, max_image_pixels=1)
    assert generation.stop_ids == {tokenizer.tokenizer.token_to_id(IM_END)}


@pytest.mark.parametrize("k", [0, 1, 5, "all"])
def test_a_forced_stop_token_at_step_k_ends_with_stop_after_exactly_k_tokens(tokenizer, k):
    text_ids = tokenizer.encode(TEXT)
    k = len(text_ids) if k == "all" else k
    script = text_ids[:k] + [tokenizer.im_end_id] + tokenizer.encode(AFTER_STOP) * 4
    chunks, decoder = generate(tokenizer, script, max_tokens=k + ROOM)

    last = chunks[-1]
    assert last.finish_reason == "stop"
    assert all(chunk.finish_reason == "" for chunk in chunks[:-1])
    assert last.completion_tokens == k
    generated = [token for chunk in chunks for token in chunk.token_ids]
    assert generated == text_ids[:k]                      # the stop token itself is not a completion token
    text = "".join(chunk.text for chunk in chunks)
    assert text == tokenizer.decode(text_ids[:k])
    assert IM_END not in text and "LEAKED" not in text
    assert decoder.stepped == text_ids[:k]                # no decode step after the stop
    assert decoder.left                                   # its row of the batch was given up


def test_without_the_stop_token_the_same_loop_runs_to_length(tokenizer):
    """The control: the same script with the stop token taken out ends by length."""
    text_ids = tokenizer.encode(TEXT)
    script = text_ids + tokenizer.encode(AFTER_STOP) * 4
    chunks, _ = generate(tokenizer, script, max_tokens=len(text_ids) + ROOM)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].completion_tokens == len(text_ids) + ROOM


def test_a_stop_string_cuts_the_text_and_stops(tokenizer):
    text_ids = tokenizer.encode("alpha beta STOP gamma delta")
    # tokens up to the one that completes the stop string (written out here, not by the matcher)
    needed = next(n for n in range(1, len(text_ids) + 1) if "STOP" in tokenizer.decode(text_ids[:n]))
    script = text_ids + [tokenizer.im_end_id]
    chunks, decoder = generate(tokenizer, script, max_tokens=len(text_ids) + ROOM, stops=["STOP"])
    assert chunks[-1].finish_reason == "stop"
    assert "".join(chunk.text for chunk in chunks) == "alpha beta "
    assert chunks[-1].completion_tokens == needed
    assert len(decoder.stepped) == needed - 1


def test_the_stop_token_releases_text_held_back_as_a_possible_stop_string(tokenizer):
    text_ids = tokenizer.encode("alpha ST")
    chunks, _ = generate(tokenizer, text_ids + [tokenizer.im_end_id], max_tokens=len(text_ids) + ROOM,
                         stops=["STOP"])
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].completion_tokens == len(text_ids)
    assert "".join(chunk.text for chunk in chunks) == "alpha ST"
