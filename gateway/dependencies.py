"""The shared resources handlers need, as FastAPI dependencies.

The application builds them once at start-up (gateway/app.py) and keeps them on its
state; handlers declare `Depends(get_settings)` / `Depends(get_triton)` /
`Depends(get_codeperception)` / `Depends(get_generations)`, so a test swaps any of them with `app.dependency_overrides`
and no handler reads `app.state` itself.
"""
from __future__ import annotations

from fastapi import Request

from services.codeperception.client import CodePerceptionClient

from .generation import Generations
from .image_urls import ImageFetcher
from .settings import GatewaySettings
from .triton_client import TritonClient


def get_settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def get_triton(request: Request) -> TritonClient:
    return request.app.state.triton


def get_codeperception(request: Request) -> CodePerceptionClient:
    return request.app.state.codeperception


def get_request_id(request: Request) -> str:
    """The id ObservabilityMiddleware gave this request (propagated to Triton and the logs)."""
    return request.state.request_id


def get_generations(request: Request) -> Generations:
    return request.app.state.generations


def get_image_fetcher(request: Request) -> ImageFetcher:
    return request.app.state.image_fetcher
