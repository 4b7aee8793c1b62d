"""The fidelity metrics separate good reproductions from bad ones, on real renders.

Every program of tests/codeperception_pairs is rendered by the real sandbox (the
production jail). The reference code rendered a second time must score >= 0.98 on every
metric; each variant changes one thing, and the metric that carries that change must
fall by at least MIN_DROP from there, while unrelated metrics stay put (so that an
assertion naming the wrong metric would fail: see test_unrelated_metrics_do_not_carry_the_change).
"""
from __future__ import annotations

import json

import pytest

from services.codeperception.fidelity import METRICS, score
from tests.codeperception_pairs.rendering import BASES, program, render, start_pool, variants_of

IDENTICAL_FLOOR = 0.98
MIN_DROP = 0.05

# Which metrics carry each change (each must drop by >= MIN_DROP):
CARRIERS = {
    "colors": ("color_f1", "ssim"),  # the trace's palette; SSIM is per channel, so it sees hue
    "data": ("ssim", "edge"),  # strokes move; tick/annotation texts may change too, not asserted
    "labels": ("text_f1",),  # the drawn strings
    "missing": ("type_f1",),  # one artist class count is short
    "chart_type": ("type_f1", "ssim"),  # other artist classes, other shapes
    "layout": ("layout_f1",),  # other subplot grid positions
}
# ... and which metrics the change does not touch (each must drop by less than MIN_DROP):
UNRELATED = {
    "colors": ("text_f1", "layout_f1", "type_f1"),
    "data": ("layout_f1", "type_f1", "color_f1"),
    "labels": ("layout_f1", "type_f1", "color_f1"),
    "missing": ("layout_f1",),
    "chart_type": ("layout_f1",),
    "layout": ("type_f1", "color_f1"),
}
CASES = [(base, variant) for base in BASES for variant in variants_of(base)]


class Pairs:
    """Each program rendered once, each pair scored once (lazily), on one real pool."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self._renders: dict = {}
        self._scores: dict = {}

    def render(self, base: str, variant: str):
        """`reference_again` is the reference code, rendered a second time."""
        if (base, variant) not in self._renders:
            code = program(base, "reference" if variant == "reference_again" else variant)
            self._renders[(base, variant)] = render(self.pool, code)
        return self._renders[(base, variant)]

    def score(self, base: str, variant: str):
        """The variant's render scored against the reference's, in image_and_trace mode."""
        if (base, variant) not in self._scores:
            reference, candidate = self.render(base, "reference"), self.render(base, variant)
            self._scores[(base, variant)] = score(reference.png, candidate.png, reference_trace=reference.trace,
                                                  candidate_trace=candidate.trace)
        return self._scores[(base, variant)]

    def drops(self, base: str, variant: str) -> dict[str, float]:
        """How far each metric falls from the identical-code score."""
        identical, changed = self.score(base, "reference_again"), self.score(base, variant)
        return {m: getattr(identical, m) - getattr(changed, m) for m in METRICS}


@pytest.fixture(scope="module")
def pairs():
    with start_pool() as pool:
        yield Pairs(pool)


def test_every_base_has_every_required_variant():
    for base in BASES:
        assert set(variants_of(base)) >= {"colors", "data", "labels", "missing", "chart_type"}, base


@pytest.mark.parametrize("base", BASES)
def test_identical_code_scores_high_on_every_metric(pairs, base):
    report = pairs.score(base, "reference_again")
    assert report.computed == METRICS
    assert all(getattr(report, m) >= IDENTICAL_FLOOR for m in METRICS), report
    assert report.aggregate >= IDENTICAL_FLOOR


@pytest.mark.parametrize("base, variant", CASES)
def test_the_matching_metric_carries_the_change(pairs, base, variant):
    dropped = pairs.drops(base, variant)
    for metric in CARRIERS[variant]:
        assert dropped[metric] >= MIN_DROP, (metric, dropped, pairs.score(base, variant))


@pytest.mark.parametrize("base, variant", CASES)
def test_unrelated_metrics_do_not_carry_the_change(pairs, base, variant):
    """The swap check: naming one of these metrics in CARRIERS would fail the test above."""
    dropped = pairs.drops(base, variant)
    for metric in UNRELATED[variant]:
        assert dropped[metric] < MIN_DROP, (metric, dropped)


@pytest.mark.parametrize("base, variant", CASES)
def test_every_change_lowers_the_aggregate(pairs, base, variant):
    assert pairs.score(base, variant).aggregate < pairs.score(base, "reference_again").aggregate


def test_the_same_code_at_the_benchmark_dpi_scores_high(pairs):
    """A reference image at 300 dpi (STEM2Code-Eval's) against a 100-dpi render of the same code:
    the comparison is at the reference's geometry and fixed sizes, so only antialiasing differs."""
    from percept_sandbox.render.results import RenderOptions

    for base in BASES:
        code = program(base)
        high, low = pairs.pool.render(code, RenderOptions(dpi=300)), pairs.render(base, "reference")
        assert high.figures[0].width_px == 3 * low.trace["figures"][0]["size_px"][0]
        report = score(high.figures[0].data, low.png, reference_trace=json.loads(high.trace_json),
                       candidate_trace=low.trace)
        assert report.ssim >= 0.94, report  # 0.957-0.985 measured
        assert all(getattr(report, m) >= IDENTICAL_FLOOR for m in METRICS if m != "ssim"), report


def test_image_only_mode_computes_only_the_image_metrics(pairs):
    reference, candidate = pairs.render("grouped_bars", "reference"), pairs.render("grouped_bars", "data")
    image_only = score(reference.png, candidate.png)
    with_traces = score(reference.png, candidate.png, reference_trace=reference.trace,
                        candidate_trace=candidate.trace)
    assert image_only.mode == "image_only" and image_only.computed == ("ssim", "edge")
    assert image_only.text_f1 is None and image_only.color_f1 is None
    assert with_traces.mode == "image_and_trace" and with_traces.computed == METRICS
    assert (image_only.ssim, image_only.edge) == (with_traces.ssim, with_traces.edge)
    assert image_only.aggregate == pytest.approx((image_only.ssim + image_only.edge) / 2)
