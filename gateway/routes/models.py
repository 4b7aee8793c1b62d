"""`GET /v1/models`: what this deployment serves, in OpenAI's list shape
(`{"object": "list", "data": [{"id", "object": "model", "created", "owned_by", ...}]}`), each
card also naming its task, revision, Triton model (or code-perception backend) and readiness.

As in OpenAI's API and vLLM, `id` is the served model's name, exactly what a client sends as
`model`; clients that take the first entry (`data[0].id`) for a chat request must find a model
that chats, so the chat models come first (the configured one, then the other families' chat
models), then the model families' other listed models in registry order
(services/models/registry.py), then code perception's generator.
"""
from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from services.codeperception.client import CodePerceptionClient
from services.common.errors import ErrorCode, PerceptError
from services.models import registry

from ..dependencies import get_codeperception, get_generations, get_settings, get_triton
from ..generation import Generations
from ..schemas import ErrorResponse, LocateDecoding, ModelCard, ModelList, ModelTask
from ..settings import GatewaySettings
from ..triton_client import TritonClient

router = APIRouter(prefix="/v1", tags=["models"], responses={503: {"model": ErrorResponse}})

_STARTED = int(time.time())


async def _chat_cards(triton: TritonClient, generations: Generations) -> list[ModelCard]:
    # Each listed while Triton serves it (a deployment may serve text location only).
    cards = []
    for triton_model in generations.triton_models:
        if not await triton.model_ready(triton_model):
            continue
        try:
            served = await generations.model(triton_model)
        except PerceptError as error:
            if error.code is not ErrorCode.UPSTREAM_UNAVAILABLE:
                raise
            continue
        cards.append(ModelCard(id=served.name, name=served.name, revision=served.model_id, created=_STARTED,
                               triton_model=served.triton_name, task=ModelTask.chat, ready=True))
    return cards


async def _family_cards(triton: TritonClient, settings: GatewaySettings) -> list[ModelCard]:
    """The families' listed models other than chat: a probed one is always listed (its readiness
    on the card, a Triton it cannot reach fails the list), any other only while it is served. A text
    location card carries the threshold a locate request without one uses."""
    cards = []
    for family in registry.families():
        for model in family.listed():
            if model.task is ModelTask.chat:
                continue
            ready = await triton.model_ready(model.name)
            if not (ready or model.probed):
                continue
            info = await triton.model_info(model.name)
            locates = model.task is ModelTask.text_location
            cards.append(ModelCard(id=info.model_name, name=info.model_name, revision=info.model_id,
                                   created=_STARTED, triton_model=model.name, task=model.task, ready=ready,
                                   threshold=settings.locate_threshold(info.threshold) if locates else None,
                                   decoding=LocateDecoding.of(info.decoding) if locates else None))
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
                      codeperception: CodePerceptionClient = Depends(get_codeperception),
                      settings: GatewaySettings = Depends(get_settings)) -> ModelList:
    return ModelList(data=[*await _chat_cards(triton, generations), *await _family_cards(triton, settings),
                           *await _codeperception_cards(codeperception)])
