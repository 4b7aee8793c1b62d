"""gateway/sse.py's response and gateway/disconnect.py, at the ASGI level: a client that leaves stops the
route's generator at once, whatever ASGI version the server reports, before the first event or after it.

Starlette's own StreamingResponse listens for the client only when the server reports ASGI below 2.4
(uvicorn 0.54 reports 2.3); above, it notices at its next write. The end-to-end checks, with the real
gateway and upstreams, are in tests/integration/gateway (test_gateway_stem_disconnect.py,
test_chat_bad_input.py, test_vqa_documents.py)."""
from __future__ import annotations

import asyncio

import pytest

from gateway import sse
from gateway.disconnect import ClientDisconnected, until_disconnected

SCOPE = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}}


class Client:
    """The ASGI side of one connection: it leaves once `leave` is set."""

    def __init__(self) -> None:
        self.leave = asyncio.Event()
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        await self.leave.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.leave.set()  # it reads the first event, then goes


def _upstream(closed: list[str]):
    """A route's events: one, then an upstream that takes its time (a long prefill, a slow render)."""
    async def events():
        try:
            yield b"data: first\n\n"
            await asyncio.sleep(3600)
            yield b"data: never\n\n"
        finally:
            closed.append("upstream closed")
    return events()


def test_a_client_leaving_mid_stream_stops_the_upstream_at_once():
    closed: list[str] = []
    client = Client()

    async def serve():
        response = await sse.respond(client.receive, _upstream(closed), request_id="rid")
        await asyncio.wait_for(response(SCOPE, client.receive, client.send), timeout=5)

    asyncio.run(serve())
    assert closed == ["upstream closed"]
    assert [m.get("body") for m in client.sent if m["type"] == "http.response.body"] == [b"data: first\n\n"]
    assert client.sent[0]["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in client.sent[0]["headers"]


def test_a_client_leaving_before_the_first_event_stops_the_upstream_and_sends_nothing():
    closed: list[str] = []
    client = Client()

    async def slow_start():
        try:
            await asyncio.sleep(3600)  # the first event never comes
            yield b"data: first\n\n"
        finally:
            closed.append("upstream closed")

    async def serve():
        asyncio.get_running_loop().call_later(0.1, client.leave.set)
        await asyncio.wait_for(sse.respond(client.receive, slow_start(), request_id="rid"), timeout=5)

    with pytest.raises(ClientDisconnected):
        asyncio.run(serve())
    assert closed == ["upstream closed"] and client.sent == []


def test_until_disconnected_returns_the_work_when_the_client_stays():
    client = Client()

    async def work():
        await asyncio.sleep(0.01)
        return 42

    async def run():
        return await until_disconnected(client.receive, work())

    assert asyncio.run(run()) == 42


def test_a_handler_cancelled_for_its_own_reasons_is_not_taken_for_a_client_leaving():
    # A server shutting down cancels the handler: that cancellation must propagate as it is.
    client = Client()

    async def run():
        handler = asyncio.ensure_future(until_disconnected(client.receive, asyncio.sleep(3600)))
        await asyncio.sleep(0.05)
        handler.cancel()
        await handler

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run())
