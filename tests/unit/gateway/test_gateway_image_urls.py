"""`image_url` intake (gateway/image_urls.py, gateway/origins.py): data: URIs, the origin allow-list,
and fetching from an allowed origin -- a real HTTP server on a local port (http.server in a thread),
with its size cap, its timeout and no redirects followed."""
from __future__ import annotations

import asyncio
import base64
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway.image_urls import ImageFetcher, decode_data_uri
from gateway.origins import allowed, parse_origins
from services.common.errors import ErrorCode, PerceptError
from tests.integration.gateway.support import png

IMAGE = png(16, 16)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/slow.png":
            time.sleep(1.5)
        if self.path == "/redirect.png":
            self.send_response(302)
            self.send_header("Location", "/a.png")
            self.end_headers()
            return
        if self.path not in ("/a.png", "/slow.png", "/big.png"):
            self.send_error(404)
            return
        body = IMAGE * 100 if self.path == "/big.png" else IMAGE
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _fetch(url: str, allowlist: tuple[str, ...], **limits):
    async def run():
        fetcher = ImageFetcher(allowlist, **{"timeout_s": 0.5, "max_bytes": 10_000, **limits})
        try:
            return await fetcher.image(url, "messages.0.content.0.image_url")
        finally:
            await fetcher.close()
    return asyncio.run(run())


def _code(call) -> ErrorCode:
    with pytest.raises(PerceptError) as caught:
        call()
    return caught.value.code


def test_data_uris():
    encoded = base64.b64encode(IMAGE).decode()
    assert decode_data_uri(f"data:image/png;base64,{encoded}", "p") == IMAGE
    assert decode_data_uri(f"data:;base64,{encoded}", "p") == IMAGE
    for bad in ("data:image/png,rawtext", f"data:text/plain;base64,{encoded}", "data:image/png;base64,@@@"):
        assert _code(lambda bad=bad: decode_data_uri(bad, "p")) is ErrorCode.INVALID_IMAGE


def test_origins_are_matched_exactly():
    origins = parse_origins("https://img.example.com, http://127.0.0.1:8000/")
    assert allowed("https://IMG.example.com/a/b.png?x=1", origins)
    assert allowed("https://img.example.com:443/a.png", origins)
    assert not allowed("https://img.example.com.evil.net/a.png", origins)
    assert not allowed("https://user@img.example.com/a.png", origins)
    assert not allowed("http://img.example.com/a.png", origins)       # another scheme, another origin
    assert not allowed("http://127.0.0.1:8001/a.png", origins)
    assert not allowed("file:///etc/passwd", origins)
    for bad in ("img.example.com", "https://img.example.com/path", "ftp://x", "https://"):
        with pytest.raises(ValueError):
            parse_origins(bad)


def test_remote_urls_are_refused_without_an_allow_list(server):
    assert _code(lambda: _fetch(f"{server}/a.png", ())) is ErrorCode.URL_NOT_ALLOWED
    assert _code(lambda: _fetch(f"{server}/a.png", parse_origins("http://127.0.0.1:1"))) is ErrorCode.URL_NOT_ALLOWED


def test_an_allowed_origin_is_fetched_with_its_limits(server):
    origins = parse_origins(server)
    assert _fetch(f"{server}/a.png", origins) == IMAGE
    assert _code(lambda: _fetch(f"{server}/big.png", origins)) is ErrorCode.PAYLOAD_TOO_LARGE
    assert _code(lambda: _fetch(f"{server}/slow.png", origins)) is ErrorCode.INVALID_IMAGE      # the timeout
    assert _code(lambda: _fetch(f"{server}/redirect.png", origins)) is ErrorCode.INVALID_IMAGE  # not followed
    assert _code(lambda: _fetch(f"{server}/missing.png", origins)) is ErrorCode.INVALID_IMAGE
