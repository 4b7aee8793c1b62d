"""Optional API-key auth (off while PERCEPT_API_KEYS is empty).

Applied to every /v1 route. /healthz, /readyz and /metrics stay open: probes and
Prometheus scrapers carry no key, and they reveal nothing about requests or models.
"""
from __future__ import annotations

import hmac

from fastapi import Depends, Request

from services.common.errors import ErrorCode, PerceptError

from .dependencies import get_settings
from .settings import GatewaySettings


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key")


async def require_api_key(request: Request, settings: GatewaySettings = Depends(get_settings)) -> None:
    keys = settings.api_keys
    if not keys:
        return
    presented = _presented_key(request)
    # Compare against every key in constant time, so timing reveals neither key nor position.
    matched = False
    for key in keys:
        matched |= presented is not None and hmac.compare_digest(presented.encode(), key.encode())
    if not matched:
        raise PerceptError(ErrorCode.UNAUTHORIZED, "a valid API key is required "
                                                   "(Authorization: Bearer <key> or X-API-Key)")
