"""`triton`: a generation model served by this platform's Triton, through the generation
contract (services/triton/generation.py): PROMPT and IMAGES in, a stream of TEXT_DELTA
out, FINISH_REASON and token counts on the last response.

At start-up the backend asks Triton for a ready model whose config implements the
contract: the configured one (PERCEPT_CODEPERCEPTION_TRITON_MODEL), else, among those that
implement it, the model families' chat models first, in registry order
(services/models/registry.py), then the others by name. Several implementing models are a
choice, never a start-up failure; none is (the service does not start).

The request and the stream go through the one generation client
(services/triton/generation_client.py): a model's error fails that candidate, a transport
fault the whole call.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing
from typing import Any, Mapping

from services.models import registry
from services.models.family import ModelTask
from services.triton import generation as contract
from services.triton.generation_client import GenerationClient, GenerationRequest, ModelError

from ..prompt import resolve_prompt
from ..settings import CodePerceptionSettings
from ..vlm_image import protocol_jpeg
from .base import (
    BACKEND_OPTIONS,
    BackendUnavailable,
    Generation,
    GenerationFailed,
    GenerationOptions,
    InputImage,
    parse_typed_options,
)

OPTIONS = BACKEND_OPTIONS["triton"]
STARTUP_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


def _summary(problems: list[str], shown: int = 3) -> str:
    more = f", and {len(problems) - shown} more" if len(problems) > shown else ""
    return ", ".join(problems[:shown]) + more


def preferred_model(implementing: list[str]) -> str:
    """The default among models implementing the contract: the registry's chat models first, in
    registry order, then the others by name."""
    try:
        chat_models = registry.models_with_task(ModelTask.chat)
    except ValueError as exc:  # PERCEPT_MODEL_FAMILIES names a module that is not a family
        raise BackendUnavailable(f"the triton backend cannot read the model families: {exc}") from None
    return min(implementing, key=lambda name: (chat_models.index(name) if name in chat_models else len(chat_models),
                                               name))


class TritonGenerationBackend:
    name = "triton"

    def __init__(self, settings: CodePerceptionSettings) -> None:
        self.settings = settings
        self.model = settings.triton_model
        self.max_concurrency = settings.generation_concurrency
        self.prompt = ""
        self.client = None
        self.default_max_tokens = settings.sampling.max_tokens
        self.generation: GenerationClient | None = None

    async def _implementing_models(self, client) -> dict[str, list[str]]:
        """{model: why it does not implement the contract} for every ready model ([] = it does)."""
        index = await client.get_model_repository_index(client_timeout=STARTUP_TIMEOUT_S)
        verdicts = {}
        for model in index.models:
            if self.settings.triton_model and model.name != self.settings.triton_model:
                continue
            if model.state != "READY":
                verdicts[model.name] = [f"not ready ({model.state or 'unloaded'})"]
                continue
            response = await client.get_model_config(model.name, client_timeout=STARTUP_TIMEOUT_S)
            verdicts[model.name] = contract.problems(response.config)
        return verdicts

    async def start(self) -> None:
        import tritonclient.grpc.aio as triton_aio
        from tritonclient.utils import InferenceServerException

        url = self.settings.triton_url
        self.client = triton_aio.InferenceServerClient(url)
        try:
            verdicts = await self._implementing_models(self.client)
        except InferenceServerException as exc:
            raise BackendUnavailable(f"the triton backend cannot reach Triton at {url}: {exc.message()}") from None
        good = sorted(name for name, found in verdicts.items() if not found)
        wanted = self.settings.triton_model
        if wanted and wanted not in verdicts:
            raise BackendUnavailable(f"the triton backend: Triton at {url} has no model {wanted!r}")
        if not good:
            reasons = "; ".join(f"{name}: {_summary(found)}" for name, found in sorted(verdicts.items()))
            raise BackendUnavailable(
                f"the triton backend: no model served by Triton at {url} implements the generation contract "
                f"(services/triton/generation.py){' -- ' + reasons if reasons else ''}. `make models` builds "
                "one (tokenvl); otherwise use the `openai` or `reference` backend.")
        self.model = preferred_model(good)
        if len(good) > 1:
            log.info("several models implement the generation contract (%s): generating with %s; "
                     "PERCEPT_CODEPERCEPTION_TRITON_MODEL chooses another", ", ".join(good), self.model)
        config = (await self.client.get_model_config(self.model, client_timeout=STARTUP_TIMEOUT_S)).config
        try:
            declared = contract.code_max_tokens(config)
        except ValueError as exc:
            log.warning("%s; ignored", exc)
            declared = None
        try:
            self.default_max_tokens = self._fitting_max_tokens(contract.model_limits(config).context_length, declared)
        except ValueError:  # the model states no limits: the request's max_tokens is its to refuse
            pass
        self.generation = GenerationClient(self.client)
        try:
            self.prompt = resolve_prompt(self.settings.prompt, self.settings.prompt_file, contract.code_prompt(config))
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(f"the triton backend cannot read its prompt: {exc}") from exc

    def _fitting_max_tokens(self, context_length: int, declared: int | None = None) -> int:
        """The protocol's max_tokens (16384) may be over a served model's whole context, which
        the model refuses (context_length_exceeded) for every request; the default is then the
        answer length the model declares (its code_max_tokens) when that fits, else half the
        context, leaving the other half to the prompt and its image tokens."""
        wanted = self.settings.sampling.max_tokens
        if wanted < context_length:
            return wanted
        fitted = declared if declared is not None and declared < context_length else context_length // 2
        log.warning("max_tokens %d does not fit the context of %s (%d tokens); generating at most %d",
                    wanted, self.model, context_length, fitted)
        return fitted

    def parse_options(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return parse_typed_options(raw, OPTIONS)

    def prepare(self, image: InputImage) -> bytes:
        return protocol_jpeg(image.image)

    def _request(self, jpeg: bytes, options: GenerationOptions) -> GenerationRequest:
        sampling = self.settings.sampling
        return GenerationRequest(
            prompt=self.prompt, images=(jpeg,), max_tokens=options.max_tokens or self.default_max_tokens,
            temperature=options.sampling_temperature(sampling.temperature),
            top_p=sampling.top_p if options.top_p is None else options.top_p, seed=options.seed,
            stop=(options.extra["stop"],) if "stop" in options.extra else ())

    async def generate(self, prepared: bytes, options: GenerationOptions, timeout_s: float) -> Generation:
        parts, last = [], None
        try:
            async with aclosing(self.generation.stream(self.model, self._request(prepared, options),
                                                       timeout_s=timeout_s)) as chunks:
                async for chunk in chunks:
                    parts.append(chunk.text)
                    last = chunk
        except ModelError as error:  # this candidate's failure, not the whole call's
            raise GenerationFailed(f"the generation model failed: {error.message}") from None
        return Generation("".join(parts), last.finish_reason, last.prompt_tokens, last.completion_tokens)

    async def close(self) -> None:
        if self.client is not None:
            await asyncio.shield(self.client.close())
