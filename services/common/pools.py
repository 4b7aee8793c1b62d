"""Work over a thread pool with results in the inputs' order."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def in_order(work: Callable[[Item], Result], items: Iterable[Item], *, workers: int, ahead: int | None = None,
             thread_name_prefix: str = "in-order") -> Iterator[Result]:
    """work(item) for every item on `workers` threads, the results yielded in the items' order.

    At most `ahead` items (default: `workers`) are started and not yet yielded; the items are read
    only as room comes. The first error is raised where its result would be yielded; on an error, or
    when the consumer stops, nothing new starts and what has not started is cancelled."""
    ahead = workers if ahead is None else ahead
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name_prefix) as pool:
        pending: deque[Future[Result]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
