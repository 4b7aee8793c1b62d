"""The sampler's candidates are the full sort's: sorting only the head of the logits (and widening
it) keeps the same tokens, in the same order, with the same probabilities, ties included."""
import numpy as np
import pytest

from services.models.tokenvl.triton import sampling
from services.models.tokenvl.triton.sampling import Sampler, SamplingOptions


def full_sort(logits: np.ndarray, options: SamplingOptions) -> tuple[np.ndarray, np.ndarray]:
    """The definition: every token in stable descending order, then top-k, then top-p."""
    scaled = logits.astype(np.float64) / options.temperature
    order = np.argsort(-scaled, kind="stable")
    if options.top_k > 0:
        order = order[:options.top_k]
    probs = np.exp(scaled[order] - scaled[order].max())
    probs /= probs.sum()
    if options.top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), options.top_p) + 1)
        order, probs = order[:keep], probs[:keep]
    return order, probs


def _logits(kind: str, rng: np.random.Generator, size: int = 4096) -> np.ndarray:
    if kind == "peaked":      # a confident model: a few tokens hold the mass
        logits = rng.standard_normal(size) * 2
        logits[rng.integers(size, size=3)] += 12
    elif kind == "flat":      # no head reaches top-p: the whole vocabulary is sorted
        logits = rng.standard_normal(size) * 0.01
    elif kind == "ties":      # equal logits across the head's boundary, in scattered token order
        logits = rng.integers(-3, 4, size=size).astype(np.float64)
    else:                     # mass spread over a few hundred tokens: the head is widened
        logits = rng.standard_normal(size) * 1.5
    return logits.astype(np.float32)


@pytest.mark.parametrize("kind", ["peaked", "flat", "ties", "spread"])
@pytest.mark.parametrize("options", [
    SamplingOptions(temperature=0.7, top_p=0.95), SamplingOptions(temperature=1.0, top_p=0.5),
    SamplingOptions(temperature=1.3, top_p=0.99), SamplingOptions(temperature=0.7, top_k=20),
    SamplingOptions(temperature=0.7, top_k=sampling.HEAD + 5, top_p=0.9),
    SamplingOptions(temperature=1.0, top_k=5000)])
def test_candidates_are_the_full_sorts(kind, options):
    rng = np.random.default_rng(abs(hash((kind, options.top_p, options.top_k))) % 2 ** 32)
    for _ in range(20):
        logits = _logits(kind, rng)
        tokens, weights = Sampler(options).candidates(logits)
        expected_tokens, expected_probs = full_sort(logits, options)
        np.testing.assert_array_equal(tokens, expected_tokens)
        np.testing.assert_allclose(weights / weights.sum(), expected_probs / expected_probs.sum(), rtol=1e-9)


def test_without_top_p_or_top_k_every_token_keeps_its_probability():
    logits = np.random.default_rng(3).standard_normal(300).astype(np.float32)
    tokens, weights = Sampler(SamplingOptions(temperature=0.8)).candidates(logits)
    scaled = logits.astype(np.float64) / 0.8
    expected = np.exp(scaled - scaled.max())
    np.testing.assert_allclose(weights[np.argsort(tokens)], expected / expected.sum(), rtol=1e-12)


def test_a_draw_is_generator_choice_with_the_same_seed():
    """_draw skips Generator.choice's checks but takes its one uniform draw and its search, so a seed
    picks what choice would have picked."""
    weights = np.random.default_rng(0).random(50) ** 4
    mine, numpy_s = Sampler(SamplingOptions(temperature=1.0, seed=11)), np.random.default_rng(11)
    picks = [mine._draw(weights) for _ in range(500)]
    assert picks == [int(numpy_s.choice(50, p=weights / weights.sum())) for _ in range(500)]
    assert len(set(picks)) > 10
