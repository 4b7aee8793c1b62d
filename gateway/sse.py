"""Server-sent events (text/event-stream): the one way a gateway route streams.

`respond` turns a route's async iterator of encoded events into the response. It is the same
for every streaming route:
- the first event is awaited before the status line goes out, so a request the upstream
  refuses (bad input, an over-long prompt, a full pool, a service down) is still answered with
  its ordinary typed 4xx/429/503, not an event inside a 200;
- a client that goes away -- while that first event is awaited, or at any point of the stream
  -- cancels the iteration at once (not at the next write, which during a long prefill or a
  slow render can be a while); the route's generator closes its upstream call in its
  `finally` (`aclosing`), which cancels the Triton generation or the code-perception RPC;
- a failure after the status line ends the stream with one error event, in the route's shape.

Two framings: the STEM route's typed events (`event: <type>` plus one `data:` line holding a
JSON object that repeats the type, `{"type": "progress", ...}`, so a client that reads only
`data:` lines still knows what it got; the last is `result`, or `error` with the platform's typed
error body), and OpenAI's `data:`-only chunks of chat completions (`data_event`, ended by `DONE`).
"""
from __future__ import annotations

import json
import logging
from typing import AsyncIterator, Awaitable, Callable

import anyio
from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive

from services.common.errors import ErrorCode, PerceptError

from .disconnect import until_disconnected

log = logging.getLogger("percept.gateway")

MEDIA_TYPE = "text/event-stream"
# Proxies (nginx) buffer responses unless told not to; an event stream must reach the client as it is sent.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

# How a failure after the status line is written: the error and the request id -> one event.
ErrorEvent = Callable[[PerceptError, str], bytes]


def event(kind: str, payload: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload}, separators=(',', ':'))}\n\n".encode()


def model_event(kind: str, model: BaseModel) -> bytes:
    return event(kind, model.model_dump(mode="json", exclude={"type"}))


def error_event(error: PerceptError, request_id: str) -> bytes:
    return event("error", {"error": {**error.to_dict(), "request_id": request_id}})


# --- OpenAI-style streams (chat completions): `data:` lines only, ended by `data: [DONE]` ------------

DONE = b"data: [DONE]\n\n"


def data_event(payload: BaseModel | dict) -> bytes:
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return f"data: {json.dumps(body, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


# --- The response ------------------------------------------------------------------------------------

async def respond(receive: Receive, events: AsyncIterator[bytes], *, request_id: str,
                  as_event: ErrorEvent = error_event) -> "EventStreamResponse":
    """The response streaming `events` (an async generator the route owns; see the module's docstring).
    `receive` is the request's ASGI receive (`request.receive`); `as_event` writes a late failure."""
    try:
        first = await until_disconnected(receive, anext(events))
    except StopAsyncIteration:
        raise PerceptError(ErrorCode.UPSTREAM_ERROR, "the upstream ended the stream before its first event") from None
    except BaseException:
        await events.aclose()
        raise
    return EventStreamResponse(relay(first, events, request_id, events.aclose, as_event=as_event))


async def relay(first: bytes, rest: AsyncIterator[bytes], request_id: str, close: Callable[[], Awaitable[None]],
                *, as_event: ErrorEvent = error_event) -> AsyncIterator[bytes]:
    """`first`, then every event of `rest`; a failure becomes a final error event (`as_event`); `close`
    always runs (when the client goes away too, so the upstream call is cancelled)."""
    try:
        yield first
        async for chunk in rest:
            yield chunk
    except PerceptError as error:
        yield as_event(error, request_id)
    except Exception:  # noqa: BLE001 - the status line is sent: the error must travel as an event
        log.exception("event stream failed", extra={"request_id": request_id})
        yield as_event(PerceptError(ErrorCode.INTERNAL, "internal error; see the gateway log"), request_id)
    finally:
        await close()


class EventStreamResponse(StreamingResponse):
    """A `text/event-stream` StreamingResponse that always listens for the client leaving and then
    cancels the body's iteration at once (Starlette does so only below ASGI 2.4; above, it notices
    at the next write). The cancellation reaches the body generator's `finally`, which closes the
    upstream call."""

    media_type = MEDIA_TYPE

    def __init__(self, content: AsyncIterator[bytes]) -> None:
        super().__init__(content, media_type=MEDIA_TYPE, headers=HEADERS)

    async def __call__(self, scope, receive, send) -> None:
        async with anyio.create_task_group() as group:
            async def stream() -> None:
                try:
                    await self.stream_response(send)
                except OSError:
                    pass  # the client is gone; the listener ends the group
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()
