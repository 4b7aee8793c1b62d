"""`openai`: any OpenAI-compatible chat-completions endpoint with image content parts --
how upstream CodePercept checkpoints are served (vLLM behind ms-swift `swift deploy`).

The request follows the STEM2Code-Eval generation protocol (docs/stem2code-eval.md): a
system message, then one user message with the instruction and the image as a JPEG data
URI (resized to the 1,310,720-pixel cap); sampling temperature 0.7, top_p 0.8, top_k 20,
repetition_penalty 1.0, presence_penalty 1.5 unless the request says otherwise. Each
candidate is one request (`n` is not portable across servers), sent concurrently.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Mapping

import httpx

from services.common.errors import ErrorCode, PerceptError

from ..prompt import resolve_prompt
from ..settings import CodePerceptionSettings
from ..vlm_image import data_uri, protocol_jpeg
from .base import (
    BACKEND_OPTIONS,
    BackendUnavailable,
    Generation,
    GenerationFailed,
    GenerationOptions,
    InputImage,
    parse_typed_options,
)

# backend_options this backend takes, and their types.
OPTIONS = BACKEND_OPTIONS["openai"]
CONNECT_TIMEOUT_S = 5.0
OWN_TIMEOUT_MARGIN_S = 0.25  # a request this close to its own timeout ends by itself
ERROR_BODY_CHARS = 300


class OpenAIChatBackend:
    name = "openai"

    def __init__(self, settings: CodePerceptionSettings) -> None:
        self.settings = settings
        self.model = settings.openai_model
        self.max_concurrency = settings.generation_concurrency
        self.url = f"{settings.openai_base_url}/chat/completions"
        self.prompt = ""
        headers = {"Authorization": f"Bearer {settings.openai_api_key}"} if settings.openai_api_key else {}
        self.client = httpx.AsyncClient(
            headers=headers, limits=httpx.Limits(max_connections=settings.generation_concurrency))

    async def start(self) -> None:
        s = self.settings
        missing = [name for name, value in (("PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL", s.openai_base_url),
                                            ("PERCEPT_CODEPERCEPTION_OPENAI_MODEL", s.openai_model)) if not value]
        if missing:
            raise BackendUnavailable(f"the openai backend needs {' and '.join(missing)}")
        try:
            self.prompt = resolve_prompt(s.prompt, s.prompt_file)
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(f"the openai backend cannot read its prompt: {exc}") from exc

    def parse_options(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return parse_typed_options(raw, OPTIONS)

    def prepare(self, image: InputImage) -> str:
        return data_uri(protocol_jpeg(image.image))

    def body(self, image_uri: str, options: GenerationOptions) -> dict[str, Any]:
        defaults = self.settings.sampling
        extra = options.extra
        messages = []
        if self.settings.system_prompt:
            messages.append({"role": "system", "content": self.settings.system_prompt})
        messages.append({"role": "user", "content": [
            {"type": "text", "text": self.prompt},
            {"type": "image_url", "image_url": {"url": image_uri}},
        ]})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": options.max_tokens or defaults.max_tokens,
            "temperature": options.sampling_temperature(defaults.temperature),
            "top_p": defaults.top_p if options.top_p is None else options.top_p,
            # vLLM's extra sampling parameters (accepted at the top level of the body)
            "top_k": extra.get("top_k", defaults.top_k),
            "repetition_penalty": extra.get("repetition_penalty", defaults.repetition_penalty),
            "presence_penalty": extra.get("presence_penalty", defaults.presence_penalty),
            "stream": False,
        }
        if options.seed is not None:
            body["seed"] = options.seed
        return body

    async def _post(self, body: dict, timeout: httpx.Timeout, timeout_s: float) -> httpx.Response:
        """The request in a task of its own, so that the caller's cancellation reaches it once:
        a cancellation landing while httpx closes a connection (after its own read timeout,
        which the deadline makes coincide with the caller's) leaves that connection open, and
        the backend keeps generating for no one. A request that is at its own timeout is left
        to end and close by itself; any other is cancelled, and its close awaited."""
        ends_at = asyncio.get_running_loop().time() + timeout_s
        request = asyncio.ensure_future(self.client.post(self.url, json=body, timeout=timeout))
        try:
            return await asyncio.shield(request)
        except asyncio.CancelledError:
            if asyncio.get_running_loop().time() < ends_at - OWN_TIMEOUT_MARGIN_S:
                request.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.shield(request)
            raise

    async def generate(self, prepared: str, options: GenerationOptions, timeout_s: float) -> Generation:
        timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        try:
            response = await self._post(self.body(prepared, options), timeout, timeout_s)
        except httpx.TimeoutException:
            raise PerceptError(ErrorCode.DEADLINE_EXCEEDED, "the generation backend did not answer within the "
                               f"deadline ({timeout_s:.1f}s)") from None
        except httpx.TransportError as exc:
            raise PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE,
                               f"the generation backend cannot be reached ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise GenerationFailed(f"the generation backend answered HTTP {response.status_code}: "
                                   f"{response.text[:ERROR_BODY_CHARS]}")
        try:
            payload = response.json()
            choice = payload["choices"][0]
            text = choice["message"].get("content") or ""
            usage = payload.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise GenerationFailed("the generation backend's answer is not a chat completion") from None
        return Generation(text=text, finish_reason=str(choice.get("finish_reason") or ""),
                          prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0))

    async def close(self) -> None:
        await asyncio.shield(self.client.aclose())
