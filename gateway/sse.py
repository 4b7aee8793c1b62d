"""Server-sent events (text/event-stream) for the streaming STEM route.

Each event is `event: <type>` plus one `data:` line holding a JSON object that repeats
the type (`{"type": "progress", ...}`), so a client that reads only `data:` lines
(as OpenAI-style clients do) still knows what it got. The last event is `result`, or
`error` with the platform's typed error body when the call fails after the stream began
(before that, the route answers an ordinary typed 4xx/429/503).
"""
from __future__ import annotations

import json
import logging
from typing import AsyncIterator, Awaitable, Callable

from pydantic import BaseModel

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
