"""Liveness, readiness and Prometheus metrics (no auth: probes and scrapers carry no key)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common.errors import ErrorCode, PerceptError
from services.triton import contract

from ..schemas import ErrorResponse, Health

router = APIRouter(tags=["operations"])

SERVED_MODELS = (contract.TOKENFD_LOCATE, contract.TOKENFD_ENCODER)


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness: Triton reachable and its models ready",
            responses={503: {"model": ErrorResponse}})
async def readyz(request: Request) -> Health:
    triton = request.app.state.triton
    checks = {"triton": await triton.server_ready()}
    if checks["triton"]:
        for model in SERVED_MODELS:
            try:
                checks[model] = (await triton.model_info(model)).ready
            except PerceptError:
                checks[model] = False
    if not all(checks.values()):
        raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, "not ready: " +
                           ", ".join(name for name, ok in checks.items() if not ok), details={"checks": checks})
    return Health(status="ready", checks=checks)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
