"""The torch-free generation logic: incremental detokenisation, stop strings, sampling,
the request's checks, the prompt template and the coalescing of streamed chunks."""
from __future__ import annotations

import numpy as np
import pytest

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenvl.fixtures import train_fixture_tokenizer
from services.models.tokenvl.tokens import PromptBuilder, Tokenizer
from services.models.tokenvl.triton.detokenize import IncrementalDetokenizer, StopMatcher
from services.models.tokenvl.triton.generation import Chunk, coalesced, request_from_inputs
from services.models.tokenvl.triton.sampling import Sampler, SamplingOptions
from services.triton import generation as contract


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer as HFTokenizer

    return Tokenizer(HFTokenizer.from_str(train_fixture_tokenizer()))


TEXTS = ["Größe → 文档问答 😀 done", "ascii only, the total is 42", "中文😀🙂📄€"]


@pytest.mark.parametrize("text", TEXTS)
def test_deltas_never_split_a_character_and_add_up_to_the_text(tokenizer, text):
    ids = tokenizer.encode(text)
    assert len(ids) > len(text.encode()) // 4   # byte-level: multi-byte characters span tokens
    detokenizer = IncrementalDetokenizer(tokenizer)
    deltas = [detokenizer.push(i) for i in ids] + [detokenizer.flush()]
    assert "".join(deltas) == text
    assert all("\ufffd" not in delta for delta in deltas)


def test_a_held_back_partial_character_is_released_when_complete(tokenizer):
    ids = tokenizer.encode("😀")
    assert len(ids) > 1
    detokenizer = IncrementalDetokenizer(tokenizer)
    assert [detokenizer.push(i) for i in ids[:-1]] == [""] * (len(ids) - 1)
    assert detokenizer.push(ids[-1]) == "😀"


def test_stop_strings_hold_back_a_possible_start_and_cut_at_the_match():
    stops = StopMatcher(["END", "##"])
    assert stops.push("abc E") == "abc "
    assert stops.push("N") == ""
    assert stops.push("x more #") == "ENx more "
    assert stops.push("# tail") == "" and stops.stopped
    assert stops.flush() == ""
    free = StopMatcher([])
    assert free.push("E") == "E"


def test_sampling_options():
    logits = np.array([0.1, 3.0, 2.9, -1.0, 2.0])
    assert Sampler(SamplingOptions())(logits) == 1

    def draws(seed, **o):
        return [Sampler(SamplingOptions(temperature=1.0, seed=seed, **o))(logits) for _ in range(1)]

    def seq(seed, **o):
        sampler = Sampler(SamplingOptions(temperature=1.0, seed=seed, **o))
        return [sampler(logits) for _ in range(30)]

    assert seq(1) == seq(1) and seq(1) != seq(2)
    assert set(seq(3, top_k=1)) == {1}
    assert set(seq(4, top_k=2)) <= {1, 2} and len(set(seq(4, top_k=2))) == 2
    assert set(seq(5, top_p=0.01)) == {1}
    assert set(seq(6)) > {1, 2}
    assert draws(0) == draws(0)


def _inputs(**values):
    def get(name):
        value = values.get(name)
        if value is None:
            return None
        return np.array(value if isinstance(value, list) else [value],
                        dtype=np.object_ if isinstance(value, (bytes, list)) else None)
    return get


@pytest.mark.parametrize("values, code", [
    ({}, ErrorCode.INVALID_REQUEST),
    ({"PROMPT": b"a", "MESSAGES": b"[]"}, ErrorCode.INVALID_REQUEST),
    ({"MESSAGES": b'[{"role": "robot", "content": "x"}]'}, ErrorCode.INVALID_REQUEST),
    ({"MESSAGES": b'[{"role": "assistant", "content": "<image>"}]'}, ErrorCode.INVALID_REQUEST),
    ({"MESSAGES": b"\xff"}, ErrorCode.INVALID_REQUEST),
    ({"PROMPT": b"a", "MAX_TOKENS": np.int32(0)}, ErrorCode.INVALID_REQUEST),
    ({"PROMPT": b"a", "TEMPERATURE": np.float32(-1)}, ErrorCode.INVALID_REQUEST),
    ({"PROMPT": b"a", "TOP_K": np.int32(-2)}, ErrorCode.INVALID_REQUEST),
])
def test_bad_inputs_are_typed_client_faults(values, code):
    with pytest.raises(PerceptError) as raised:
        request_from_inputs(_inputs(**values))
    assert raised.value.code is code


def test_the_template_is_internvl25_with_256_context_tokens_per_tile(tokenizer):
    builder = PromptBuilder(tokenizer, system_message="SYS")
    prompt = builder.single("Q?", [2, 1])
    text = tokenizer.tokenizer.decode(prompt.ids, skip_special_tokens=False)
    context = "<IMG_CONTEXT>"
    assert text == ("<s><|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\n"
                    f"<img>{context * 512}</img>\n<img>{context * 256}</img>\nQ?<|im_end|>\n"
                    "<|im_start|>assistant\n")
    assert prompt.image_tokens == 768
    chat = builder.chat(contract.decode_messages(contract.encode_messages(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"},
         {"role": "user", "content": "more"}])), [])
    assert tokenizer.tokenizer.decode(chat.ids, skip_special_tokens=False).endswith(
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyes<|im_end|>\n<|im_start|>user\nmore<|im_end|>\n"
        "<|im_start|>assistant\n")


def test_any_int64_seed_samples_reproducibly():
    """The contract's SEED is INT64: a negative seed is a seed like any other, not a crash."""
    logits = np.linspace(0.0, 1.0, 50)

    def draw(seed):
        return [Sampler(SamplingOptions(temperature=1.0, seed=seed))(logits) for _ in range(1)]

    def runs(seed):
        sampler = Sampler(SamplingOptions(temperature=1.0, seed=seed))
        return [sampler(logits) for _ in range(20)]

    assert runs(-7) == runs(-7)
    assert runs(-(2 ** 63)) == runs(-(2 ** 63))
    assert runs(-7) != runs(7)
    assert draw(-1) == draw(2 ** 64 - 1)


def test_coalescing_gathers_the_tokens_of_an_interval_and_never_holds_the_first_or_last():
    times = iter([0, 4, 8, 12, 21, 30, 31, 50])   # the clock at each chunk
    texts = ["a", "b", "", "c", "d", "e", "f", "g"]
    chunks = [Chunk(text, "stop" if i == len(texts) - 1 else "", 7, i + 1, (100 + i,))
              for i, text in enumerate(texts)]
    sent = list(coalesced(chunks, 10, clock=lambda: next(times)))
    assert [c.text for c in sent] == ["a", "bc", "de", "fg"]   # at 0, 12 and 30, then the last at once
    assert [c.token_ids for c in sent] == [(100,), (101, 102, 103), (104, 105), (106, 107)]
    assert [c.completion_tokens for c in sent] == [1, 4, 6, 8]
    assert [c.finish_reason for c in sent] == ["", "", "", "stop"]
    # every token's text and id arrives once, in order
    assert "".join(c.text for c in sent) == "".join(texts)
    assert sum((c.token_ids for c in sent), ()) == tuple(range(100, 108))


def test_an_interval_of_zero_sends_every_chunk():
    chunks = [Chunk(t, "", 1, i + 1, (i,)) for i, t in enumerate("abc")] + [Chunk("", "length", 1, 3, ())]
    assert list(coalesced(chunks, 0.0, clock=lambda: 1.0)) == chunks
