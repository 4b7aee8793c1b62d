"""tests/bench/stats.py: median and min-max of per-repeat values; targets are judged on the median."""
from __future__ import annotations

import pytest

from tests.bench.stats import Summary, summarize, yes_no


def test_median_low_high_and_count():
    s = summarize([1.52, 1.38, 1.45])
    assert s == Summary(median=1.45, low=1.38, high=1.52, n=3)


def test_even_count_median_is_the_mean_of_the_middle_two():
    assert summarize([4, 1, 3, 2]).median == 2.5


def test_format():
    assert summarize([1.52, 1.38, 1.45]).format("x") == "1.45x (1.38–1.52)"
    assert summarize([70.4, 68.9, 72.2]).format("%", digits=0) == "70% (69–72)"


def test_best_run_meeting_the_target_is_not_enough():
    s = summarize([1.25, 1.10, 1.15])       # the best repeat meets 1.2x, the median does not
    assert s.high >= 1.2
    assert not s.meets(1.2)
    assert yes_no(s.meets(1.2)) == "no"


def test_median_meeting_the_target_is_met_even_if_one_run_misses():
    s = summarize([1.25, 1.10, 1.22])
    assert s.meets(1.2)
    assert yes_no(s.meets(1.2)) == "yes"


def test_lower_is_better():
    assert summarize([0.05, 0.20, 0.10]).meets(0.15, higher_is_better=False)
    assert not summarize([0.05, 0.20, 0.16]).meets(0.15, higher_is_better=False)


def test_target_equal_to_median_is_met():
    assert summarize([1.0, 1.2, 1.4]).meets(1.2)
    assert summarize([1.0, 1.2, 1.4]).meets(1.2, higher_is_better=False)


def test_empty_is_refused():
    with pytest.raises(ValueError):
        summarize([])


def test_replace_block_rewrites_only_between_its_markers():
    from tests.bench.stats import replace_block

    text = "intro\n<!-- a:start -->\nold\n<!-- a:end -->\n<!-- b:start -->\nkept\n<!-- b:end -->\n"
    replaced = replace_block(text, "<!-- a:start -->", "<!-- a:end -->", "new")
    assert replaced == "intro\n<!-- a:start -->\nnew\n<!-- a:end -->\n<!-- b:start -->\nkept\n<!-- b:end -->\n"
