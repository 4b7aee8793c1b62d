"""A prompt prefilled once serves later requests for it: the copied KV rows decode exactly as a
prefill of their own would (the tiny exported fixture, in ONNX Runtime)."""
import numpy as np
import pytest

from services.models.tokenvl.triton.decoder import Decoder

STEPS = 6


@pytest.fixture(scope="module")
def export(tokenfd_artifacts):
    return tokenfd_artifacts.tokenvl_export


def _own_prefill(decoder, embeds, capacity):
    """The prompt run into this request's own cache, as every prefill was before it was shared."""
    cache = decoder.new_cache(capacity)
    return decoder.forward(embeds, cache), cache


def _greedy(decoder, embeds, capacity, prefill=None):
    logits, cache = (prefill or Decoder.prefill)(decoder, embeds, capacity)
    trace = [logits]
    for _ in range(STEPS):
        logits = decoder.step(int(np.argmax(logits)), cache)
        trace.append(logits)
    return np.stack(trace)


def test_a_shared_prefill_decodes_as_its_own_would(export):
    shared = Decoder.from_directory(export, intra_op_threads=1)
    embeds = shared.embed(list(range(5, 40)), None, -1)
    first = _greedy(shared, embeds, capacity=64)
    again = _greedy(shared, embeds, capacity=48)     # another request's cache, another size
    assert shared.prefixes.computed == 1
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, _greedy(shared, embeds, 64, prefill=_own_prefill), rtol=1e-5, atol=1e-5)
    assert shared.prefixes.computed == 1


def test_another_prompt_is_prefilled_afresh(export):
    decoder = Decoder.from_directory(export, intra_op_threads=1)
    one = decoder.prefill(decoder.embed(list(range(5, 40)), None, -1))[0]
    other = decoder.prefill(decoder.embed(list(range(6, 41)), None, -1))[0]
    assert decoder.prefixes.computed == 2
    assert not np.array_equal(one, other)
