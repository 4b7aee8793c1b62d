"""The try-it page: static HTML, CSS and JavaScript under /ui/ (gateway/ui/static), `/` redirecting there.

The page is a client of the public REST API like any other (it calls /v1/*, /readyz with the
key the user types), so it shows exactly what an API client gets. Every file is served by the
gateway itself, PDF.js included (vendored with its licence), so it works on an air-gapped
cluster; the Content-Security-Policy lets the page load and call nothing but this origin.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

UI_PATH = "/ui"
STATIC_DIR = Path(__file__).resolve().parent.parent / "ui" / "static"

# 'self' only: no CDN, no other host. data:/blob: images are the API's base64 renders and local
# previews of the user's files; PDF.js runs its parser in a same-origin module worker and
# compiles its image decoders with WebAssembly ('wasm-unsafe-eval' allows that, not eval).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'",
    "img-src 'self' data: blob:", "connect-src 'self'", "worker-src 'self'", "font-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"))
SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


class _PageFiles(StaticFiles):
    """The page's files, each answer with the security headers."""

    async def get_response(self, path: str, scope: Scope):
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def install(app: FastAPI) -> None:
    app.mount(UI_PATH, _PageFiles(directory=STATIC_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> RedirectResponse:
        # Relative to the deployment's root path, so it also works behind a path-prefix proxy.
        return RedirectResponse(request.scope.get("root_path", "") + UI_PATH + "/", status_code=307)
