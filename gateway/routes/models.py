"""`GET /v1/models`: what this deployment serves."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from services.models.tokenfd.triton import contract

from ..auth import require_api_key
from ..dependencies import get_triton
from ..schemas import ErrorResponse, ModelCard, ModelList
from ..triton_client import TritonClient

router = APIRouter(prefix="/v1", tags=["models"], dependencies=[Depends(require_api_key)],
                   responses={401: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})

# The gateway's tasks and the Triton model that does each.
TASKS = {"text-location": contract.TOKENFD_LOCATE}


@router.get("/models", response_model=ModelList, summary="Models served, with their readiness")
async def list_models(triton: TritonClient = Depends(get_triton)) -> ModelList:
    cards = []
    for task, triton_model in TASKS.items():
        info = await triton.model_info(triton_model)
        cards.append(ModelCard(name=info.model_name, id=info.model_id, triton_model=triton_model,
                               task=task, ready=await triton.model_ready(triton_model)))
    return ModelList(data=cards)
