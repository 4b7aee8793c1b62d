"""What the `tokenvl` model does for one request, without Triton in the way.

    inputs (the generation contract, services/triton/generation.py) -> TokenVLRequest
    -> decode + tile the images, build the InternVL2.5 prompt, check the limits  (prepare)
    -> visual tokens from the vision encoder (injected: a BLS call in Triton)
    -> prefill once, then one token at a time with the KV cache                  (stream)
    -> incremental detokenisation, stop strings, finish reason and token usage

Client faults raise PerceptError with the contract's codes; services.triton.errors carries
them across Triton as "[code] message".
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from services.common import limits, settings
from services.common.errors import ErrorCode, PerceptError
from services.common.images import decode_image
from services.models.common.tiling import choose_grid, tile_image
from services.models.tokenvl import config as model_config
from services.models.tokenvl.artifacts import META_FILE, TOKENIZER_FILE
from services.models.tokenvl.tokens import IMG_CONTEXT, IMG_END, IMG_START, Prompt, PromptBuilder, Tokenizer
from services.models.tokenvl.triton.code_guard import GuardedSampler, GuardRules, token_texts
from services.models.tokenvl.triton.decoder import Decoder
from services.models.tokenvl.triton.detokenize import IncrementalDetokenizer, StopMatcher
from services.models.tokenvl.triton.sampling import Sampler, SamplingOptions
from services.triton import generation as contract

_IMAGE_TOKENS = (IMG_START, IMG_END, IMG_CONTEXT)


@dataclass(frozen=True)
class TokenVLRequest:
    """One request as the `tokenvl` model received it (the contract's inputs, decoded and checked);
    the client's side of the same contract is services.triton.generation_client.GenerationRequest."""

    prompt: str | None = None
    messages: list[contract.Turn] | None = None
    images: Sequence[bytes] = ()
    max_tokens: int | None = None
    sampling: SamplingOptions = SamplingOptions()
    stops: Sequence[str] = ()


@dataclass(frozen=True)
class Chunk:
    text: str
    finish_reason: str          # "" until the last chunk
    prompt_tokens: int
    completion_tokens: int
    token_ids: tuple[int, ...] = ()   # generated since the previous chunk (TOKEN_IDS, beyond the contract)


def coalesced(chunks: Iterable[Chunk], interval_s: float,
              clock: Callable[[], float] = time.monotonic) -> Iterator[Chunk]:
    """The chunks, those that come less than `interval_s` after the last one let through merged
    into the next one: the text and token ids of every token still arrive, in order, in fewer
    responses. Each response costs Python work in the model, in Triton and in the client, so one
    per token cost best of N's concurrent samples more than their decoding did. The first chunk
    (time to the first token) and the last (the finish reason) are never held."""
    held: Chunk | None = None
    sent_at = float("-inf")
    for chunk in chunks:
        if held is not None:
            chunk = replace(chunk, text=held.text + chunk.text, token_ids=held.token_ids + chunk.token_ids)
        now = clock()
        if chunk.finish_reason or now - sent_at >= interval_s:
            held, sent_at = None, now
            yield chunk
        else:
            held = chunk


@dataclass
class Prepared:
    prompt: Prompt
    pixel_values: np.ndarray | None       # (tiles, 3, 448, 448), every image's tiles in order
    max_tokens: int
    request: TokenVLRequest
    token_ids: list[int] = field(default_factory=list)


def _text(value: bytes | str, name: str) -> str:
    if isinstance(value, str):
        return value
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"{name} is not UTF-8") from None


def request_from_inputs(get: Callable[[str], np.ndarray | None]) -> TokenVLRequest:
    """The contract's tensors (`get(name)` -> array or None when absent) as a checked request."""
    def single(spec):
        array = get(spec.name)
        if array is None:
            return None
        values = np.asarray(array).reshape(-1)
        if values.size != 1:
            raise PerceptError(ErrorCode.INVALID_REQUEST, f"input {spec.name} must hold one element, "
                                                          f"got {values.size}")
        return values[0]

    prompt, messages = single(contract.PROMPT), single(contract.MESSAGES)
    if (prompt is None) == (messages is None):
        raise PerceptError(ErrorCode.INVALID_REQUEST, "exactly one of PROMPT and MESSAGES must be given")
    images = get(contract.IMAGES.name)
    stops = get(contract.STOP.name)
    max_tokens, temperature, top_p, top_k, seed = (single(s) for s in (
        contract.MAX_TOKENS, contract.TEMPERATURE, contract.TOP_P, contract.TOP_K, contract.SEED))
    if max_tokens is not None and int(max_tokens) < 1:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"MAX_TOKENS must be >= 1, got {int(max_tokens)}")
    temperature = 0.0 if temperature is None else float(temperature)
    top_p = 1.0 if top_p is None else float(top_p)
    top_k = 0 if top_k is None else int(top_k)
    if not np.isfinite(temperature) or temperature < 0:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"TEMPERATURE must be >= 0, got {temperature}")
    if not (0.0 < top_p <= 1.0):
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"TOP_P must be in (0, 1], got {top_p}")
    if top_k < 0:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"TOP_K must be >= 0, got {top_k}")
    stop_list = [] if stops is None else [_text(s, "STOP") for s in np.asarray(stops).reshape(-1)]
    if len(stop_list) > contract.MAX_STOP_STRINGS:
        raise PerceptError(ErrorCode.INVALID_REQUEST, f"at most {contract.MAX_STOP_STRINGS} stop strings")
    return TokenVLRequest(
        prompt=None if prompt is None else _text(prompt, "PROMPT"),
        messages=None if messages is None else contract.decode_messages(bytes(messages)),
        images=[] if images is None else [bytes(i) for i in np.asarray(images).reshape(-1)],
        max_tokens=None if max_tokens is None else int(max_tokens),
        sampling=SamplingOptions(temperature=temperature, top_p=top_p, top_k=top_k,
                                 seed=None if seed is None else int(seed)),
        stops=[s for s in stop_list if s])


def tile_count(image, max_tiles: int) -> int:
    """Tiles tile_image sends for `image` at `max_tiles` (the thumbnail included), without tiling."""
    cols, rows = choose_grid(image.width, image.height, max_tiles=max_tiles)
    return model_config.encoder_tiles(cols * rows)


class TokenVLGeneration:
    def __init__(self, tokenizer: Tokenizer, decoder: Decoder, *, context_length: int, max_images: int,
                 max_tiles: int = model_config.DEFAULT_MAX_TILES,
                 default_max_tokens: int = model_config.DEFAULT_MAX_TOKENS,
                 system_message: str | None = None, max_image_pixels: int | None = None,
                 vision_batch_size: int = model_config.VISION_MAX_BATCH_SIZE,
                 code_guard: GuardRules | None = None) -> None:
        self.tokenizer = tokenizer
        self.vision_batch_size = vision_batch_size
        self.decoder = decoder
        self.context_length = context_length
        self.max_images = max_images
        self.max_tiles = max_tiles
        self.default_max_tokens = default_max_tokens
        if max_image_pixels is None:   # read once here, never per request
            max_image_pixels = int(settings.load(limits.COMPONENT)[limits.MAX_IMAGE_PIXELS.name])
        self.max_image_pixels = max_image_pixels
        options = {} if system_message is None else {"system_message": system_message}
        self.prompts = PromptBuilder(tokenizer, tokens_per_tile=model_config.TOKENS_PER_TILE, **options)
        self.stop_ids = {tokenizer.im_end_id}
        # Constrained decoding of an answer's program (code_guard.py), for a model that declares its guard's
        # rules (the names its programs may read unbound, ...): each token's text, once, and those rules.
        self.code_guard = code_guard
        self.token_texts = None if code_guard is None else token_texts(tokenizer)

    @classmethod
    def from_directory(cls, directory: str | Path, *, intra_op_threads: int = 0, **options) -> "TokenVLGeneration":
        directory = Path(directory)
        tokenizer = Tokenizer.from_file(directory / TOKENIZER_FILE)
        meta = json.loads((directory / META_FILE).read_text())
        decoder = Decoder.from_directory(directory, intra_op_threads=intra_op_threads)
        if decoder.hidden_size != int(meta["hidden_size"]):
            raise ValueError(f"{META_FILE} says hidden size {meta['hidden_size']}, the embeddings "
                             f"{decoder.hidden_size}")
        return cls(tokenizer, decoder, **options)

    # --- before the vision encoder --------------------------------------------------
    def prepare(self, request: TokenVLRequest) -> Prepared:
        if len(request.images) > self.max_images:
            raise PerceptError(ErrorCode.TOO_MANY_IMAGES, f"{len(request.images)} images, this model takes at "
                                                          f"most {self.max_images}")
        if request.messages is not None:
            for turn in request.messages:
                self._check_text(turn.content)
            placeholders = contract.image_placeholders(request.messages)
            if placeholders != len(request.images):
                raise PerceptError(ErrorCode.INVALID_REQUEST,
                                   f"{placeholders} {contract.IMAGE_PLACEHOLDER} placeholder(s) in the user turns "
                                   f"but {len(request.images)} image(s); each image needs one, in order")
        else:
            self._check_text(request.prompt or "")
            # PROMPT's images go before the text by the template; a placeholder in it would
            # ask for one image more than IMAGES holds.
            if contract.IMAGE_PLACEHOLDER in (request.prompt or ""):
                raise PerceptError(ErrorCode.INVALID_REQUEST,
                                   f"PROMPT contains {contract.IMAGE_PLACEHOLDER}: with PROMPT the images are placed "
                                   f"before the text; to place them yourself, send MESSAGES")
        images = []
        for index, data in enumerate(request.images):
            try:
                images.append(decode_image(data, max_pixels=self.max_image_pixels))
            except PerceptError as exc:
                raise PerceptError(exc.code, f"image {index}: {exc.message}") from None
        max_tokens = request.max_tokens or self.default_max_tokens
        # Each image gets up to max_tiles tiles; when the images would not fit the context at
        # that cap, the cap is lowered for all of them (as InternVL does for several images)
        # down to one tile each; only then is the request refused.
        for cap in range(self.max_tiles, 0, -1):
            tiles = [tile_count(image, cap) for image in images]
            prompt = self._prompt(request, tiles)
            if len(prompt.ids) + max_tokens <= self.context_length or not images:
                break
        if len(prompt.ids) + max_tokens > self.context_length:
            raise PerceptError(ErrorCode.CONTEXT_LENGTH_EXCEEDED,
                               f"the prompt is {len(prompt.ids)} tokens (images included, at the fewest tiles) "
                               f"and max_tokens {max_tokens}: over the model's context of "
                               f"{self.context_length} tokens")
        tiled = [tile_image(image, max_tiles=cap) for image in images]
        pixels = np.concatenate([t.pixel_values for t in tiled]) if tiled else None
        return Prepared(prompt=prompt, pixel_values=pixels, max_tokens=max_tokens, request=request)

    def _prompt(self, request: TokenVLRequest, tiles: list[int]) -> Prompt:
        return (self.prompts.chat(request.messages, tiles) if request.messages is not None
                else self.prompts.single(request.prompt or "", tiles))

    def _check_text(self, text: str) -> None:
        forged = [token for token in _IMAGE_TOKENS if token in text]
        if forged:
            raise PerceptError(ErrorCode.UNSUPPORTED_CONTENT,
                               f"the text contains the image token(s) {', '.join(forged)}; images go in IMAGES "
                               f"with a {contract.IMAGE_PLACEHOLDER} placeholder")

    # --- after it -------------------------------------------------------------------
    def stream(self, prepared: Prepared, image_features: np.ndarray | None,
               cancelled: Callable[[], bool] = lambda: False) -> Iterator[Chunk]:
        """Chunks of text; the last one has the finish reason. Stops early (without a last
        chunk) when `cancelled()` becomes true; its row of the KV cache is left with the generator."""
        prompt_tokens = len(prepared.prompt.ids)
        embeds = self.decoder.embed(prepared.prompt.ids, image_features, self.tokenizer.img_context_id)
        # this request's row of a batch with the requests for the same prompt (best of N's samples)
        seat = self.decoder.join(embeds, capacity=prompt_tokens + prepared.max_tokens)
        sampler = Sampler(prepared.request.sampling)
        if self.code_guard is not None:
            sampler = GuardedSampler(sampler, self.code_guard.guard(), self.token_texts)
        detokenizer = IncrementalDetokenizer(self.tokenizer)
        stops = StopMatcher(prepared.request.stops)
        generated = 0
        pending: list[int] = []

        def chunk(text: str, finish: str = "") -> Chunk:
            ids = tuple(pending)
            pending.clear()
            return Chunk(text, finish, prompt_tokens, generated, ids)

        try:
            logits = seat.first_logits
            while True:
                if cancelled():
                    return
                token = sampler(logits)
                last = None
                if token in self.stop_ids:
                    last = chunk(stops.push(detokenizer.flush()) + stops.flush(), "stop")
                else:
                    generated += 1
                    pending.append(token)
                    prepared.token_ids.append(token)
                    text = stops.push(detokenizer.push(token))
                    if stops.stopped:
                        last = chunk(text, "stop")
                    elif generated >= prepared.max_tokens:
                        last = chunk(text + stops.push(detokenizer.flush()) + stops.flush(), "length")
                if last is not None:
                    seat.leave()   # before the last chunk goes out: the other rows need not wait for it
                    yield last
                    return
                if text:
                    yield chunk(text)
                logits = seat.step(token)
        finally:
            seat.leave()   # the other rows go on without this one; the cache goes with the last
