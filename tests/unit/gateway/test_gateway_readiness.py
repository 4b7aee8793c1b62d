"""The readiness cache: ready until told otherwise; then at most one check per interval."""
from __future__ import annotations

import asyncio

from gateway.readiness import ReadinessCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _cache(answers: list[bool], clock: FakeClock):
    asked = []

    async def check(model: str) -> bool:
        asked.append(model)
        return answers.pop(0)

    return ReadinessCache(check, recheck_s=1.0, clock=clock), asked


def test_ready_models_are_never_checked():
    clock = FakeClock()
    cache, asked = _cache([], clock)
    assert all(asyncio.run(cache.ensure_ready("m")) for _ in range(10))
    assert asked == []


def test_not_ready_is_rechecked_at_most_once_per_interval():
    clock = FakeClock()
    cache, asked = _cache([False, True], clock)
    cache.record("m", False)  # e.g. an inference found Triton unreachable
    assert asyncio.run(cache.ensure_ready("m")) is False and asked == []  # just learned: no call
    clock.now += 1.5
    assert asyncio.run(cache.ensure_ready("m")) is False and asked == ["m"]
    assert asyncio.run(cache.ensure_ready("m")) is False and asked == ["m"]
    clock.now += 1.5
    assert asyncio.run(cache.ensure_ready("m")) is True and asked == ["m", "m"]
    assert asyncio.run(cache.ensure_ready("m")) is True and len(asked) == 2


def test_concurrent_requests_share_one_check():
    clock = FakeClock()
    calls = []

    async def slow_check(model: str) -> bool:
        calls.append(model)
        await asyncio.sleep(0.05)
        return True

    cache = ReadinessCache(slow_check, recheck_s=1.0, clock=clock)
    cache.record("m", False)
    clock.now += 2

    async def many():
        return await asyncio.gather(*(cache.ensure_ready("m") for _ in range(20)))

    assert all(asyncio.run(many()))
    assert len(calls) == 1


def test_a_failing_check_counts_as_not_ready():
    clock = FakeClock()

    async def broken(model: str) -> bool:
        raise ConnectionError("down")

    cache = ReadinessCache(broken, recheck_s=1.0, clock=clock)
    cache.record("m", False)
    clock.now += 2
    assert asyncio.run(cache.ensure_ready("m")) is False
