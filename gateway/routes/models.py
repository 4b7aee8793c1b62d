"""`GET /v1/models`: what this deployment serves, in OpenAI's list shape
(`{"object": "list", "data": [{"id", "object": "model", "created", "owned_by", ...}]}`), each
card also naming its task, revision, Triton model (or code-perception backend) and readiness.

As in OpenAI's API and vLLM, `id` is the served model's name, exactly what a client sends as
`model`; clients that take the first entry (`data[0].id`) for a chat request must find a model
that chats, so the chat model comes first, then text location, then code perception's generator.
"""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from services.codeperception.client import CodePerceptionClient
from services.common.errors import ErrorCode, PerceptError
from services.models.tokenfd.triton import contract

from ..dependencies import get_codeperception, get_generations, get_triton
from ..generation import Generations
from ..schemas import ErrorResponse, ModelCard, ModelList, ModelTask
from ..triton_client import TritonClient

router = APIRouter(prefix="/v1", tags=["models"], responses={503: {"model": ErrorResponse}})

# The gateway's own Triton tasks and the model that does each (the chat model is configured).
TASKS = {ModelTask.text_location: contract.TOKENFD_LOCATE}
_STARTED = int(time.time())


async def _chat_cards(triton: TritonClient, generations: Generations) -> list[ModelCard]:
    # Listed while Triton serves it (a deployment may serve text location only).
    if not await triton.model_ready(generations.triton_model):
        return []
    try:
        served = await generations.model()
    except PerceptError as error:
        if error.code is not ErrorCode.UPSTREAM_UNAVAILABLE:
            raise
        return []
    return [ModelCard(id=served.name, name=served.name, revision=served.model_id, created=_STARTED,
                      triton_model=served.triton_name, task=ModelTask.chat, ready=True)]


async def _triton_cards(triton: TritonClient) -> list[ModelCard]:
    cards = []
    for task, triton_model in TASKS.items():
        info = await triton.model_info(triton_model)
        cards.append(ModelCard(id=info.model_name, name=info.model_name, revision=info.model_id, created=_STARTED,
                               triton_model=triton_model, task=task, ready=await triton.model_ready(triton_model)))
    return cards


async def _codeperception_cards(codeperception: CodePerceptionClient) -> list[ModelCard]:
    # The STEM domain is optional (and may run an older service): whatever keeps the service from
    # answering leaves its generator out of the list rather than failing the list.
    try:
        generator = await codeperception.generator()
    except PerceptError:
        return []
    return [ModelCard(id=generator.model, name=generator.model, created=_STARTED, backend=generator.backend,
                      task=ModelTask.image_to_code, ready=await codeperception.serving())]


@router.get("/models", response_model=ModelList, summary="Models served, chat models first, with their readiness")
async def list_models(triton: TritonClient = Depends(get_triton),
                      generations: Generations = Depends(get_generations),
                      codeperception: CodePerceptionClient = Depends(get_codeperception)) -> ModelList:
    return ModelList(data=[*await _chat_cards(triton, generations), *await _triton_cards(triton),
                           *await _codeperception_cards(codeperception)])
