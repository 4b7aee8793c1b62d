"""Results that requests with identical inputs share: computed once, even when they arrive together.

Best of N sends N requests with the same image and prompt (only the seed differs), at the same moment.
Each would run the same vision pass and the same prefill. `SharedResults` keeps the last few results by
a digest of their inputs (`digest`), and a request whose key is being computed by another waits for
that one (a single flight) instead of computing it again. A failure is not kept: every waiter gets the
exception, and the next request computes afresh.

The values are read-only for their users (each request copies what it changes), so sharing them is
safe; nothing a request owns, such as its KV cache, is shared.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Callable, Generic, Hashable, TypeVar

import numpy as np

Value = TypeVar("Value")


def digest(*parts: np.ndarray | bytes | str) -> bytes:
    """A collision-resistant key of arrays (shape, dtype and bytes), bytes and strings, in order."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        if isinstance(part, np.ndarray):
            hasher.update(f"{part.dtype.str}{part.shape}".encode())
            hasher.update(np.ascontiguousarray(part))   # the buffer itself: a request's tiles are tens of MB
        else:
            hasher.update(part.encode() if isinstance(part, str) else part)
        hasher.update(b"\x00")
    return hasher.digest()


class SharedResults(Generic[Value]):
    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity      # 0: nothing kept, concurrent requests still share a flight
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, Value] = OrderedDict()
        self._flights: dict[Hashable, Future] = {}
        self.computed = 0             # how many times `compute` ran (tests and logs)

    def get(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            flight = self._flights.get(key)
            owner = flight is None
            if owner:
                flight = self._flights[key] = Future()
        if not owner:
            return flight.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._flights[key]
            flight.set_exception(exc)
            raise
        with self._lock:
            self.computed += 1
            del self._flights[key]
            if self.capacity:
                self._done[key] = value
                while len(self._done) > self.capacity:
                    self._done.popitem(last=False)
        flight.set_result(value)
        return value
