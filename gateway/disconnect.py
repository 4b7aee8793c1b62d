"""Work done for an HTTP client stops when the client goes away.

Uvicorn does not cancel a handler whose client has left: it only answers the next ASGI
`receive()` with `http.disconnect`. Without a listener, a generation or a best-of-N run keeps
going for nobody until it writes. `until_disconnected` is that listener for a handler's
awaited call; `gateway/sse.py` uses it for a stream's first event and listens for the rest
of the stream the same way.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

from starlette.types import Receive

T = TypeVar("T")


class ClientDisconnected(Exception):
    """The client left before its answer. Nobody reads the response; the gateway records the
    request as 499 (nginx's "client closed request") instead of an unexpected error."""


async def until_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work`, cancelled as soon as the client sends `http.disconnect`, so the upstream call it
    makes is cancelled too (a Triton generation, a code-perception RPC); raises ClientDisconnected
    then (a cancellation of the handler itself still propagates as CancelledError).
    Call it once the request body has been read: the listener consumes what `receive` returns."""
    task = asyncio.ensure_future(work)
    left = asyncio.Event()

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                left.set()
                task.cancel()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if left.is_set() and not (current is not None and current.cancelling()):
            raise ClientDisconnected("the client closed the connection") from None
        raise
    finally:
        watcher.cancel()
        task.cancel()  # a no-op once it has finished; stops it when this handler itself is cancelled
