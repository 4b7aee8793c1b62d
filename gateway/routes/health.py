"""Liveness, readiness and Prometheus metrics (no auth: probes and scrapers carry no key).

The gateway serves two domains with separate upstreams: text (Triton) and STEM (the
code-perception service). Neither depends on the other, so one upstream's outage must not
take the other domain out of the load balancer: `/readyz` is 200 while at least one
domain is ready (`status` "ready" when both are, "degraded" otherwise, `checks` naming
each), and 503 only when none is. The text domain is Triton and the models the model families
mark as probed (services/models/registry.py). `/readyz?domain=text|stem` asks about one domain, for a
deployment that serves only that one. `models` names the checkpoint each ready listed model of the
text domain serves (`tokenfd_locate`: `tokenfd-mini`, say), from the model info the gateway caches.
"""
from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, Depends, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.codeperception.client import CodePerceptionClient
from services.common.errors import ErrorCode, PerceptError
from services.models import registry

from ..dependencies import get_codeperception, get_triton
from ..schemas import ErrorResponse, Health
from ..triton_client import TritonClient

router = APIRouter(tags=["operations"])



def probed_models() -> tuple[str, ...]:
    """The Triton models the text domain needs ready: each model family's probed ones."""
    return tuple(name for family in registry.families() for name in family.probed())


class Domain(str, Enum):
    text = "text"
    stem = "stem"


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


async def _text_checks(triton: TritonClient) -> dict[str, bool]:
    # Live calls (probes are few and periodic); their answers refresh the request path's cached readiness.
    checks = {"triton": await triton.server_ready()}
    if checks["triton"]:
        for model in probed_models():
            checks[model] = await triton.model_ready(model)
    return checks


async def _served(triton: TritonClient, checks: dict[str, bool]) -> dict[str, str]:
    """The checkpoint name of each ready listed model (cached after its first read); a model whose
    info cannot be read now is left out, never a failed probe."""
    served = {}
    for family in registry.families():
        for model in family.listed():
            if not checks.get(model.name):
                continue
            try:
                served[model.name] = (await triton.model_info(model.name)).model_name
            except PerceptError:
                continue
    return served


@router.get("/readyz", response_model=Health,
            summary="Readiness: each domain's upstream reachable (Triton for text, code-perception for STEM)",
            responses={400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
async def readyz(domain: Domain | None = Query(None, description="Ask about one domain only."),
                 triton: TritonClient = Depends(get_triton),
                 codeperception: CodePerceptionClient = Depends(get_codeperception)) -> Health:
    by_domain: dict[Domain, dict[str, bool]] = {}
    if domain in (None, Domain.text):
        by_domain[Domain.text] = await _text_checks(triton)
    if domain in (None, Domain.stem):
        by_domain[Domain.stem] = {"codeperception": await codeperception.serving()}
    checks = {name: ok for domain_checks in by_domain.values() for name, ok in domain_checks.items()}
    ready = [d for d, domain_checks in by_domain.items() if all(domain_checks.values())]
    if not ready:
        raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, "not ready: " +
                           ", ".join(name for name, ok in checks.items() if not ok), details={"checks": checks})
    served = await _served(triton, checks) if Domain.text in by_domain else {}
    return Health(status="ready" if len(ready) == len(by_domain) else "degraded", checks=checks, models=served)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
