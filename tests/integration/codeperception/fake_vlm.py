"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 -- the one test double
of these tests. It stands in for a GPU VLM (CodePercept served by vLLM/ms-swift), which
cannot run on these machines; everything else the tests touch is real.

It is a real HTTP server (http.server, its own thread): the service reaches it over TCP
exactly as it would reach vLLM. It records every request it receives (headers and JSON
body) so tests can check the protocol, answers by a script keyed on the request's `seed`
(candidate i of a seeded request sends seed + i), and notices when a client hangs up
while it is still "thinking" (a cancelled backend request).
"""
from __future__ import annotations

import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    content: str
    delay_s: float = 0.0
    status: int = 200
    finish_reason: str = "stop"


def python_block(code: str) -> str:
    return f"Here is the program.\n\n```python\n{code.rstrip()}\n```\n"


@dataclass
class Received:
    headers: dict
    body: dict


@dataclass
class FakeVLM:
    """Use as a context manager; `base_url` is what PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL takes."""
    default: Answer = field(default_factory=lambda: Answer("no code here"))
    by_seed: dict = field(default_factory=dict)       # seed -> Answer
    received: list = field(default_factory=list)      # Received, in arrival order
    disconnects: int = 0                              # clients that hung up before their answer

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, default: Answer | None = None, **by_seed: Answer) -> None:
        with self._lock:
            if default is not None:
                self.default = default
            self.by_seed = {int(k.removeprefix("seed")): v for k, v in by_seed.items()}
            self.received.clear()
            self.disconnects = 0

    def _answer_for(self, body: dict) -> Answer:
        with self._lock:
            return self.by_seed.get(body.get("seed"), self.default)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # quiet
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.received.append(Received(headers={k.lower(): v for k, v in self.headers.items()},
                                                  body=body))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                answer = fake._answer_for(body)
                if answer.delay_s and self._client_left_within(answer.delay_s):
                    with fake._lock:
                        fake.disconnects += 1
                    return
                if answer.status != 200:
                    return self._send(answer.status, {"error": {"message": answer.content}})
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": answer.finish_reason,
                                 "message": {"role": "assistant", "content": answer.content}}],
                    "usage": {"prompt_tokens": 321, "completion_tokens": len(answer.content.split()),
                              "total_tokens": 321 + len(answer.content.split())}})

            def _client_left_within(self, seconds: float) -> bool:
                """Wait `seconds`, returning True as soon as the client closes its connection."""
                deadline = time.monotonic() + seconds
                while (left := deadline - time.monotonic()) > 0:
                    readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
                    if readable and not self.connection.recv(1, socket.MSG_PEEK):  # b"" means EOF
                        return True
                return False

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> "FakeVLM":
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-vlm").start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
