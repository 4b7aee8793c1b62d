"""services.common.pools.in_order: results in the inputs' order, bounded read-ahead, errors and
early stops start nothing new."""
from __future__ import annotations

import threading
import time

import pytest

from services.common.pools import in_order


def test_results_come_in_the_items_order_whatever_finishes_first():
    def slow_first(n: int) -> int:
        time.sleep(0.05 if n == 0 else 0)
        return n * n

    assert list(in_order(slow_first, range(12), workers=4)) == [n * n for n in range(12)]


@pytest.mark.parametrize(("workers", "ahead"), [(2, None), (2, 4), (3, 1)])
def test_no_more_than_ahead_items_are_taken_before_their_results_are_yielded(workers, ahead):
    taken = []

    def items():
        for n in range(20):
            taken.append(n)
            yield n

    results = in_order(lambda n: n, items(), workers=workers, ahead=ahead)
    for yielded, result in enumerate(results, start=1):
        assert result == yielded - 1
        assert len(taken) <= yielded + (workers if ahead is None else ahead) - 1


def test_an_error_is_raised_at_its_place_and_nothing_new_starts():
    started = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        if n == 3:
            raise ValueError("item 3")
        return n

    results = in_order(work, range(100), workers=2, ahead=2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="item 3"):
        next(results)
    assert max(started) <= 4


def test_a_consumer_that_stops_early_starts_nothing_more():
    started = []

    def work(n: int) -> int:
        started.append(n)
        return n

    results = in_order(work, range(1000), workers=2, ahead=4)
    assert next(results) == 0
    results.close()
    assert len(started) <= 4
