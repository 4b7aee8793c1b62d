"""Cached readiness of the Triton models the gateway calls.

Asking Triton `is_model_ready` before every inference would double the calls on the
request path. Instead the answer is cached: a model starts as ready (the first
inference finds out), a successful inference keeps it ready, and a call that finds
Triton unreachable or the model not loaded marks it not ready. While a model is
marked not ready, requests are answered 503 at once instead of each one waiting for
its retries, and at most one readiness call per `recheck_s`, shared by every waiting
request, asks Triton again (a lazy refresh: no background task to start or stop).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

RECHECK_S = 1.0  # how stale a "not ready" may get before a request asks Triton again


@dataclass
class _State:
    ready: bool = True
    checked_at: float = float("-inf")


class ReadinessCache:
    def __init__(self, check: Callable[[str], Awaitable[bool]], *, recheck_s: float = RECHECK_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._check = check  # a live readiness call; exceptions count as "not ready"
        self._recheck_s = recheck_s
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _state(self, model: str) -> _State:
        return self._states.setdefault(model, _State())

    def is_marked_ready(self, model: str) -> bool:
        return self._state(model).ready

    def record(self, model: str, ready: bool) -> None:
        """What a call just learned about the model (an inference, or a live check)."""
        state = self._state(model)
        state.ready, state.checked_at = ready, self._clock()

    async def ensure_ready(self, model: str) -> bool:
        """True at once while the model is marked ready; else re-check (at most once per recheck_s)."""
        state = self._state(model)
        if state.ready:
            return True
        lock = self._locks.setdefault(model, asyncio.Lock())
        async with lock:  # one check for all the requests that arrive while it runs
            if state.ready:
                return True
            if self._clock() - state.checked_at < self._recheck_s:
                return False
            try:
                ready = bool(await self._check(model))
            except Exception:  # noqa: BLE001 - any failure to ask is "not ready"
                ready = False
            self.record(model, ready)
            return ready
