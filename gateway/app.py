"""The gateway application: thin routers over one Triton client."""
from __future__ import annotations

import logging
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import errors, settings
from .observability import JsonLogFormatter, ObservabilityMiddleware
from .routes import health, models, text
from .triton_client import TritonClient


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("percept")
    root.handlers[:] = [handler]
    root.setLevel(settings.LOG_LEVEL.get().upper())
    root.propagate = False


def create_app(triton_url: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.triton = TritonClient(triton_url)
        try:
            yield
        finally:
            await app.state.triton.close()

    app = FastAPI(
        title="percept gateway",
        version="0.1.0",
        description="REST API of the percept platform: text location with TokenFD (served by Triton).",
        lifespan=lifespan,
    )
    app.add_middleware(ObservabilityMiddleware)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(models.router)
    app.include_router(text.router)
    return app
