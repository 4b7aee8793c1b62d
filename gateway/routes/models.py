"""`GET /v1/models`: what this deployment serves, in OpenAI's list shape
(`{"object": "list", "data": [{"id", "object": "model", "created", "owned_by", ...}]}`), each
card also naming its Triton model, task and readiness."""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenfd.triton import contract

from ..auth import require_api_key
from ..dependencies import get_generations, get_triton
from ..generation import Generations
from ..schemas import ErrorResponse, ModelCard, ModelList
from ..triton_client import TritonClient

router = APIRouter(prefix="/v1", tags=["models"], dependencies=[Depends(require_api_key)],
                   responses={401: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})

# The gateway's tasks and the Triton model that does each (the generation model is configured).
TASKS = {"text-location": contract.TOKENFD_LOCATE}
CHAT_TASK = "chat"
_STARTED = int(time.time())


@router.get("/models", response_model=ModelList, summary="Models served, with their readiness")
async def list_models(triton: TritonClient = Depends(get_triton),
                      generations: Generations = Depends(get_generations)) -> ModelList:
    cards = []
    for task, triton_model in TASKS.items():
        info = await triton.model_info(triton_model)
        cards.append(ModelCard(name=info.model_name, id=info.model_id, created=_STARTED, triton_model=triton_model,
                               task=task, ready=await triton.model_ready(triton_model)))
    # The generation model is listed while Triton serves it (a deployment may serve text location only).
    if await triton.model_ready(generations.triton_model):
        try:
            served = await generations.model()
        except PerceptError as error:
            if error.code is not ErrorCode.UPSTREAM_UNAVAILABLE:
                raise
        else:
            cards.append(ModelCard(name=served.name, id=served.model_id, created=_STARTED,
                                   triton_model=served.triton_name, task=CHAT_TASK, ready=True))
    return ModelList(data=cards)
