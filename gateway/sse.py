"""Server-sent events (text/event-stream): the streaming STEM route's typed events, and the
OpenAI-style `data:`-only chunks of chat completions (`data_event`, ended by `DONE`).

Each STEM event is `event: <type>` plus one `data:` line holding a JSON object that repeats
the type (`{"type": "progress", ...}`), so a client that reads only `data:` lines
(as OpenAI-style clients do) still knows what it got. The last event is `result`, or
`error` with the platform's typed error body when the call fails after the stream began
(before that, the route answers an ordinary typed 4xx/429/503).
"""
from __future__ import annotations

import json
import logging
from typing import AsyncIterator, Awaitable, Callable

import anyio
from pydantic import BaseModel
from starlette.responses import StreamingResponse

from services.common.errors import ErrorCode, PerceptError

log = logging.getLogger("percept.gateway")

MEDIA_TYPE = "text/event-stream"
# Proxies (nginx) buffer responses unless told not to; an event stream must reach the client as it is sent.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(kind: str, payload: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **payload}, separators=(',', ':'))}\n\n".encode()


def model_event(kind: str, model: BaseModel) -> bytes:
    return event(kind, model.model_dump(mode="json", exclude={"type"}))


def error_event(error: PerceptError, request_id: str) -> bytes:
    return event("error", {"error": {**error.to_dict(), "request_id": request_id}})


async def relay(first: bytes, rest: AsyncIterator[bytes], request_id: str,
                close: Callable[[], Awaitable[None]]) -> AsyncIterator[bytes]:
    """`first`, then every event of `rest`; a failure becomes a final `error` event; `close` always runs
    (when the client goes away too, so the upstream call is cancelled)."""
    try:
        yield first
        async for chunk in rest:
            yield chunk
    except PerceptError as error:
        yield error_event(error, request_id)
    except Exception:  # noqa: BLE001 - the status line is sent: the error must travel as an event
        log.exception("event stream failed", extra={"request_id": request_id})
        yield error_event(PerceptError(ErrorCode.INTERNAL, "internal error; see the gateway log"), request_id)
    finally:
        await close()


# --- OpenAI-style streams (chat completions): `data:` lines only, ended by `data: [DONE]` ------------

DONE = b"data: [DONE]\n\n"


def data_event(payload: BaseModel | dict) -> bytes:
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    return f"data: {json.dumps(body, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


class DisconnectAwareStreamingResponse(StreamingResponse):
    """A StreamingResponse that always listens for the client leaving and then cancels the body's
    iteration at once (Starlette does so only below ASGI 2.4; above, it notices at the next write,
    which during a long prefill can be a while). The cancellation reaches the body generator's
    `finally`, which closes the upstream call."""

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
