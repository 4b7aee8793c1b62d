"""Optional API-key auth (off while PERCEPT_API_KEYS is empty).

Applied to every /v1 route when keys are configured, and only then: `protected()` gives the
routers' options, so the OpenAPI document (generated from the routes) declares the security
schemes and the 401 answer exactly when the server asks for a key. /healthz, /readyz and
/metrics stay open: probes and Prometheus scrapers carry no key, and they reveal nothing about
requests or models.
"""
from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from services.common.errors import ErrorCode, PerceptError

from .dependencies import get_settings
from .settings import GatewaySettings

# Declared as security schemes, so the OpenAPI document says how to authenticate; either one works.
_BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`")


async def require_api_key(bearer: HTTPAuthorizationCredentials | None = Depends(_BEARER),
                          api_key: str | None = Depends(_API_KEY),
                          settings: GatewaySettings = Depends(get_settings)) -> None:
    keys = settings.api_keys
    if not keys:
        return
    presented = bearer.credentials.strip() if bearer is not None and bearer.credentials.strip() else api_key
    # Compare against every key in constant time, so timing reveals neither key nor position.
    matched = False
    for key in keys:
        matched |= presented is not None and hmac.compare_digest(presented.encode(), key.encode())
    if not matched:
        raise PerceptError(ErrorCode.UNAUTHORIZED, "a valid API key is required "
                                                   "(Authorization: Bearer <key> or X-API-Key)")


def protected(settings: GatewaySettings, error_model: type[BaseModel]) -> dict[str, Any]:
    """`include_router` options of a /v1 router: the key check and its 401 (in the router's error
    shape, `error_model`) when keys are configured; nothing when auth is off."""
    if not settings.api_keys:
        return {}
    return {"dependencies": [Security(require_api_key)],
            "responses": {401: {"model": error_model, "description": "No valid API key."}}}
