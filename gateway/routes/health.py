"""Liveness, readiness and Prometheus metrics (no auth: probes and scrapers carry no key)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenfd.triton import contract

from ..dependencies import get_triton
from ..schemas import ErrorResponse, Health
from ..triton_client import TritonClient

router = APIRouter(tags=["operations"])

SERVED_MODELS = (contract.TOKENFD_LOCATE, contract.TOKENFD_ENCODER)


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness: Triton reachable and its models ready",
            responses={503: {"model": ErrorResponse}})
async def readyz(triton: TritonClient = Depends(get_triton)) -> Health:
    # Live calls (probes are few and periodic); their answers refresh the request path's cached readiness.
    checks = {"triton": await triton.server_ready()}
    if checks["triton"]:
        for model in SERVED_MODELS:
            checks[model] = await triton.model_ready(model)
    if not all(checks.values()):
        raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, "not ready: " +
                           ", ".join(name for name, ok in checks.items() if not ok), details={"checks": checks})
    return Health(status="ready", checks=checks)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
