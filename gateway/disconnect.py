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


async def until_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work`, cancelled as soon as the client sends `http.disconnect`, so the upstream call it
    makes is cancelled too (a Triton generation, a code-perception RPC); raises CancelledError then.
    Call it once the request body has been read: the listener consumes what `receive` returns."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                task.cancel()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        return await task
    finally:
        watcher.cancel()
        task.cancel()  # a no-op once it has finished; stops it when this handler itself is cancelled
