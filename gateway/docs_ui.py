"""/docs (Swagger UI) and /redoc (ReDoc) with every asset served by the gateway itself.

FastAPI's default pages load their JavaScript and CSS from a public CDN, so they are
blank on an air-gapped cluster. The `fastapi-offline` package ships both bundles;
they are mounted under ASSETS_PATH and the pages point there (relative to the
deployment's root path, so they also work behind a path-prefix proxy).
"""
from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"


def install(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Mount the assets and add both pages (create the app with docs_url=None, redoc_url=None)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def assets(request: Request) -> str:
        return request.scope.get("root_path", "") + ASSETS_PATH

    def openapi_url(request: Request) -> str:
        return request.scope.get("root_path", "") + (app.openapi_url or "/openapi.json")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url(request), title=f"{app.title} - Swagger UI",
                                   swagger_js_url=f"{assets(request)}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{assets(request)}/swagger-ui.css",
                                   swagger_favicon_url=f"{assets(request)}/favicon.png",
                                   oauth2_redirect_url=None,
                                   # no validator badge: it would load an image from a public host
                                   swagger_ui_parameters={"validatorUrl": None})

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url(request), title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{assets(request)}/redoc.standalone.js",
                              redoc_favicon_url=f"{assets(request)}/favicon.png", with_google_fonts=False)
