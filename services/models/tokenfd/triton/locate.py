"""What `tokenfd_locate` does for one request, without Triton in the way.

decode (shared pixel cap) -> validate the query -> tile -> tokenize -> look up the
token embeddings -> encoder, in chunks of at most the encoder's max batch -> stitch.

The encoder call is injected: inside Triton it is a BLS request to
`tokenfd_encoder`, in tests it can be ONNX Runtime in-process. Client faults raise
PerceptError with a stable code (services.triton.errors carries it across Triton).
The defaults (max tiles, encoder batch) are the model config's; the input limits
are read once, when the pipeline is built (the model's initialize), never per request.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from services.common import limits, settings
from services.common.errors import ErrorCode, PerceptError
from services.common.images import decode_image
from services.common.queries import validate_query
from services.models.tokenfd import config
from services.models.tokenfd.artifacts import EMBEDDINGS_FILE, META_FILE, TOKENIZER_FILE

# (pixel_values (n,3,448,448), query_embeddings (n,T,D)) -> similarity (n,T,128,128)
EncodeFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LocateResult:
    similarity: np.ndarray    # (T, 128*rows, 128*cols) float32
    token_ids: np.ndarray     # (T,) int64
    token_texts: list[str]
    grid: tuple[int, int]     # (cols, rows)
    num_tiles: int            # tiles sent to the encoder, thumbnail included
    image_size: tuple[int, int]  # (width, height)
    # A spelled query's letters (tokenizer.spell): (C, 128*rows, 128*cols) maps and their pieces; C = 0 otherwise.
    letter_similarity: np.ndarray | None = None
    letter_texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedRequest:
    tiled: Any                    # services.models.tokenfd.preprocess.TiledImage
    token_ids: np.ndarray
    token_texts: list[str]
    query_embeddings: np.ndarray  # (T' , D): the T tokens, then the C letters; T' >= T + C when padded
    image_size: tuple[int, int]
    letter_texts: list[str] = field(default_factory=list)


def padded_length(tokens: int) -> int:
    """Next power of two: requests with 3 and 4 tokens share an encoder batch."""
    return 1 << max(0, tokens - 1).bit_length()


class LocatePipeline:
    def __init__(self, tokenizer, embeddings: np.ndarray, *, max_tiles: int | None = None,
                 encoder_max_batch_size: int | None = None, pad_query_tokens: bool = True,
                 input_limits: dict[str, object] | None = None) -> None:
        self.tokenizer = tokenizer
        self.embeddings = embeddings
        # {variable name: value} as services.common.settings.load("limits") returns it.
        input_limits = settings.load(limits.COMPONENT) if input_limits is None else input_limits
        self.max_query_chars = int(input_limits[limits.MAX_QUERY_CHARS.name])
        self.max_query_tokens = int(input_limits[limits.MAX_QUERY_TOKENS.name])
        self.max_image_pixels = int(input_limits[limits.MAX_IMAGE_PIXELS.name])
        self.max_tiles = config.DEFAULT_MAX_TILES if max_tiles is None else max_tiles
        self.encoder_max_batch_size = (config.ENCODER_MAX_BATCH_SIZE if encoder_max_batch_size is None
                                       else encoder_max_batch_size)
        self.pad_query_tokens = pad_query_tokens

    @classmethod
    def from_directory(cls, directory: str | Path, **options) -> "LocatePipeline":
        """Load the tokenizer and the embedding table (memory-mapped: instances share the pages)."""
        from services.models.tokenfd.tokenizer import QueryTokenizer

        directory = Path(directory)
        embeddings = np.load(directory / EMBEDDINGS_FILE, mmap_mode="r")
        meta_path = directory / META_FILE
        if meta_path.exists():
            declared = json.loads(meta_path.read_text()).get("D")
            if declared is not None and int(declared) != embeddings.shape[1]:
                raise ValueError(f"{META_FILE} D={declared} != embedding table D={embeddings.shape[1]}")
        return cls(QueryTokenizer.from_file(directory / TOKENIZER_FILE), embeddings, **options)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    # --- validation -----------------------------------------------------------------
    def parse_query(self, raw: bytes | str) -> str:
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PerceptError(ErrorCode.INVALID_QUERY, "the query is not valid UTF-8") from exc
        return validate_query(raw, max_chars=self.max_query_chars)

    def parse_max_tiles(self, value: int | None) -> int:
        if value is None:
            return self.max_tiles
        if not 1 <= value <= self.max_tiles:
            raise PerceptError(ErrorCode.INVALID_REQUEST,
                               f"max_tiles must be between 1 and {self.max_tiles}, got {value}")
        return int(value)

    def tokenize(self, query: str) -> tuple[np.ndarray, list[str]]:
        ids, pieces = self.tokenizer.encode_query(query)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            raise PerceptError(ErrorCode.INVALID_QUERY, "the query has no tokens (only whitespace or "
                                                        "characters the tokenizer drops)")
        max_tokens = self.max_query_tokens
        if ids.size > max_tokens:
            raise PerceptError(ErrorCode.QUERY_TOO_LONG,
                               f"the query has {ids.size} tokens; the limit is {max_tokens}")
        if ids.min() < 0 or ids.max() >= self.embeddings.shape[0]:
            raise PerceptError(ErrorCode.INTERNAL, "the tokenizer produced ids outside the embedding table")
        return ids, [str(p) for p in pieces]

    def letters(self, query: str, tokens: int) -> tuple[np.ndarray, list[str]]:
        """A one-word query's letters (tokenizer.spell) as ids and pieces; none when it has several words or its
        letters would take the query past the token limit (they share the encoder's query batch)."""
        ids, pieces = self.tokenizer.spell(query)
        if not ids or tokens + len(ids) > self.max_query_tokens:
            return np.zeros(0, dtype=np.int64), []
        return np.asarray(ids, dtype=np.int64), [str(p) for p in pieces]

    def query_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """(T', D) float32; T' = T padded by repeating the last token (dropped afterwards)."""
        vectors = np.asarray(self.embeddings[ids], dtype=np.float32)
        if self.pad_query_tokens:
            extra = padded_length(len(ids)) - len(ids)
            if extra:
                vectors = np.concatenate([vectors, np.repeat(vectors[-1:], extra, axis=0)])
        return vectors

    # --- the request ------------------------------------------------------------------
    def prepare(self, image_bytes: bytes, query: bytes | str, max_tiles: int | None = None, *,
                spell: bool = False) -> PreparedRequest:
        """Everything before the encoder: cheap checks first, then decode and tile. With `spell`, a one-word
        query's letters are looked up too (`letters`)."""
        from services.models.tokenfd.preprocess import tile_image

        text = self.parse_query(query)
        tiles_limit = self.parse_max_tiles(max_tiles)
        ids, pieces = self.tokenize(text)
        letter_ids, letter_texts = self.letters(text, len(ids)) if spell else (np.zeros(0, dtype=np.int64), [])
        image = decode_image(image_bytes, max_pixels=self.max_image_pixels)
        return PreparedRequest(tiled=tile_image(image, max_tiles=tiles_limit), token_ids=ids, token_texts=pieces,
                               query_embeddings=self.query_embeddings(np.concatenate([ids, letter_ids])),
                               image_size=(int(image.width), int(image.height)), letter_texts=letter_texts)

    def encode(self, prepared: PreparedRequest, encode: EncodeFn) -> np.ndarray:
        """(tiles, T, 128, 128): the encoder in chunks of at most its max batch, padding dropped."""
        pixels = prepared.tiled.pixel_values
        vectors = prepared.query_embeddings
        chunks = []
        for start in range(0, pixels.shape[0], self.encoder_max_batch_size):
            chunk = pixels[start:start + self.encoder_max_batch_size]
            queries = np.ascontiguousarray(np.broadcast_to(vectors, (chunk.shape[0], *vectors.shape)))
            chunks.append(encode(chunk, queries))
        return np.concatenate(chunks)[:, :len(prepared.token_ids) + len(prepared.letter_texts)]

    def run(self, image_bytes: bytes, query: bytes | str, encode: EncodeFn,
            max_tiles: int | None = None, *, spell: bool = False) -> LocateResult:
        from services.models.tokenfd.preprocess import stitch_maps

        prepared = self.prepare(image_bytes, query, max_tiles, spell=spell)
        tiled = prepared.tiled
        maps = np.ascontiguousarray(stitch_maps(self.encode(prepared, encode), tiled.grid, tiled.has_thumbnail),
                                    dtype=np.float32)
        tokens = len(prepared.token_ids)
        return LocateResult(
            similarity=maps[:tokens],
            token_ids=prepared.token_ids,
            token_texts=prepared.token_texts,
            grid=(int(tiled.grid[0]), int(tiled.grid[1])),
            num_tiles=int(tiled.num_tiles),
            image_size=prepared.image_size,
            letter_similarity=maps[tokens:],
            letter_texts=prepared.letter_texts,
        )
