"""The gateway application: thin routers over two upstream clients, Triton (text) and the
code-perception service (STEM).

Settings are parsed and checked when the app is created (a bad value stops start-up,
naming the variable); the clients are built in the lifespan. Handlers get them through
dependencies (gateway/dependencies.py).
"""
from __future__ import annotations

import logging
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.codeperception.client import CodePerceptionClient

from . import docs_ui, errors, openapi
from .auth import protected
from .chat_schemas import DATA_URI_PATTERN
from .generation import Generations
from .image_urls import ImageFetcher
from .observability import JsonLogFormatter, ObservabilityMiddleware
from .openai_errors import OpenAIErrorResponse
from .routes import chat, documents, health, models, stem, text, ui
from .schemas import ErrorResponse, heatmap_tokens_text
from .settings import GatewaySettings
from .triton_client import TritonClient


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("percept")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = GatewaySettings.from_env() if settings is None else settings

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.triton = TritonClient.from_settings(settings)
        app.state.codeperception = CodePerceptionClient(settings.codeperception_url)
        app.state.generations = Generations(app.state.triton, settings.generation_model,
                                            timeout_s=settings.generation_timeout_s)
        app.state.image_fetcher = ImageFetcher(settings.image_url_allowlist, timeout_s=settings.image_url_timeout_s,
                                               max_bytes=settings.image_url_max_bytes)
        try:
            yield
        finally:
            await app.state.image_fetcher.close()
            await app.state.codeperception.close()
            await app.state.triton.close()

    app = FastAPI(
        title="percept gateway",
        version="0.1.0",
        description="REST API of the percept platform: text location with TokenFD and document VQA with "
                    "TokenVL (served by Triton), an OpenAI-compatible chat completions endpoint, and STEM "
                    "images as code (the code-perception service).",
        lifespan=lifespan,
        docs_url=None,   # docs_ui serves both pages with local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_middleware(ObservabilityMiddleware)
    errors.install(app, retry_after_s=settings.retry_after_s)
    app.include_router(health.router)
    # The /v1 routers ask for a key only when keys are configured; so does the document.
    platform_auth = protected(settings, ErrorResponse)
    app.include_router(models.router, **platform_auth)
    app.include_router(text.router, **platform_auth)
    app.include_router(stem.router, **platform_auth)
    app.include_router(documents.router, **platform_auth)
    app.include_router(chat.router, **protected(settings, OpenAIErrorResponse))
    # The document states the limits this process enforces on body fields.
    openapi.install(app, property_limits={"max_tiles": {"maximum": settings.max_tiles},
                                          "heatmap_max_side": {"maximum": settings.heatmap_max_side},
                                          "LocateJsonRequest.heatmap_tokens": {
                                              "items": {"maximum": settings.max_query_tokens - 1}},
                                          "LocateMultipartRequest.heatmap_tokens": {
                                              "pattern": heatmap_tokens_text(settings.max_query_tokens - 1)},
                                          "query": {"maxLength": settings.max_query_chars},
                                          "candidates": {"maximum": settings.max_candidates},
                                          "refine_renders": {"maximum": settings.max_refine_renders},
                                          **{field: {"maxLength": settings.max_code_bytes}
                                             for field in ("code", "candidate_code", "reference_code")},
                                          **{field: {"maximum": settings.max_completion_tokens}
                                             for field in ("VqaJsonRequest.max_tokens",
                                                           "VqaMultipartRequest.max_tokens",
                                                           "ChatCompletionRequest.max_tokens",
                                                           "ChatCompletionRequest.max_completion_tokens")},
                                          **{field: {"maxItems": settings.max_images}
                                             for field in ("VqaJsonRequest.images", "VqaMultipartRequest.images")},
                                          # with no allow-list, an image URL can only be a data: URI
                                          **({} if settings.image_url_allowlist else
                                             {"ImageURL.url": {"pattern": DATA_URI_PATTERN}})})
    docs_ui.install(app)
    ui.install(app)  # the try-it page at /ui/, / redirecting there
    return app
