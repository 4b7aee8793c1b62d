"""The LLM's decoder in ONNX Runtime with a KV cache (torch-free; the cpu serving engine).

The graph (built by onnxruntime-genai's builder, export.py) takes inputs_embeds, so the
embedding lookup happens here, in numpy, and the visual tokens replace the rows at the
<IMG_CONTEXT> positions. Prefill runs the prompt once; each decode step runs one token
against the cache. The cache is this request's `KVCache`: buffers sized for its prompt plus
max tokens, bound as both past and present (GroupQueryAttention's shared-buffer mode, as
onnxruntime-genai runs the graph), so no step copies the cache. It lives as long as the
request and is dropped with it, so a cancelled request frees everything by going out of scope.

What requests share is a prefill's result, read-only: the last few prompts' logits and KV rows
(`PREFIXES`), kept by a digest of the prompt's embeddings. Best of N's requests (one image and
prompt, N seeds) prefill once, and those that arrive while the prefill runs then decode as the rows
of one batch (`join`, lockstep.py), one forward pass per step for all of them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from services.models.tokenvl.artifacts import DECODER_DIR, DECODER_ONNX_FILE, EMBEDDINGS_FILE
from services.models.tokenvl.triton.lockstep import Gatherings, Seat
from services.triton.shared_results import SharedResults, digest

PREFIXES = 8   # prefills kept: a few concurrent best-of-N calls' prompts


def create_session(onnx_path: str | Path, *, intra_op_threads: int = 0):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])


@dataclass
class KVCache:
    """One request's key/value buffers, (1, kv_heads, capacity, head_dim) per layer, allocated
    once for the prompt plus its max tokens. The graph writes each step's keys and values in
    place (the buffers are bound as both past and present), so a step copies nothing."""
    keys: list
    values: list
    capacity: int
    length: int = 0


@dataclass(frozen=True)
class Prefilled:
    """A prompt's last logits and its KV rows, (1, kv_heads, length, head_dim) per layer (read-only)."""
    logits: np.ndarray
    keys: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]


class Decoder:
    def __init__(self, session, embeddings: np.ndarray, genai_config: dict, *,
                 prefixes: int = PREFIXES) -> None:
        self.session = session
        self.prefixes: SharedResults[Prefilled] = SharedResults(prefixes)
        self.gatherings = Gatherings()
        self.on_pass: Callable[[int], None] | None = None   # each decode pass's rows (lockstep.py; metrics)
        self.embeddings = embeddings
        decoder = genai_config["model"]["decoder"]
        self.layers = int(decoder["num_hidden_layers"])
        self.kv_heads = int(decoder["num_key_value_heads"])
        self.head_dim = int(decoder["head_size"])
        names = decoder["inputs"]
        outputs = decoder["outputs"]
        self.past_keys = [names["past_key_names"] % i for i in range(self.layers)]
        self.past_values = [names["past_value_names"] % i for i in range(self.layers)]
        self.present = [outputs["present_key_names"] % i for i in range(self.layers)] \
            + [outputs["present_value_names"] % i for i in range(self.layers)]
        self.embeds_name, self.mask_name = names["inputs_embeds"], names["attention_mask"]
        self.logits_name = outputs["logits"]
        self.vocab_size = int(genai_config["model"]["vocab_size"])

    @classmethod
    def from_directory(cls, export_dir: str | Path, *, intra_op_threads: int = 0) -> "Decoder":
        export_dir = Path(export_dir)
        decoder_dir = export_dir / DECODER_DIR
        genai_config = json.loads((decoder_dir / "genai_config.json").read_text())
        embeddings = np.load(export_dir / EMBEDDINGS_FILE, mmap_mode="r")
        return cls(create_session(decoder_dir / DECODER_ONNX_FILE, intra_op_threads=intra_op_threads),
                   embeddings, genai_config)

    @property
    def hidden_size(self) -> int:
        return int(self.embeddings.shape[1])

    def embed(self, ids: list[int], image_features: np.ndarray | None, img_context_id: int) -> np.ndarray:
        """(1, T, H) prompt embeddings with the visual tokens at the <IMG_CONTEXT> rows."""
        ids_array = np.asarray(ids, dtype=np.int64)
        embeds = np.asarray(self.embeddings[ids_array], dtype=np.float32)
        positions = np.flatnonzero(ids_array == img_context_id)
        features = np.zeros((0, embeds.shape[1]), np.float32) if image_features is None \
            else image_features.reshape(-1, embeds.shape[1])
        if len(positions) != len(features):
            raise ValueError(f"{len(positions)} <IMG_CONTEXT> positions but {len(features)} visual tokens")
        embeds[positions] = features
        return embeds[None]

    def new_cache(self, capacity: int, rows: int = 1) -> KVCache:
        import onnxruntime as ort

        shape = (rows, self.kv_heads, capacity, self.head_dim)
        return KVCache([ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, np.float32)) for _ in range(self.layers)],
                       [ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, np.float32)) for _ in range(self.layers)],
                       capacity)

    def forward(self, embeds: np.ndarray, cache: KVCache) -> np.ndarray:
        """Run `embeds` (1, T, H) after the cache; returns the last position's logits (vocab,)
        and extends the cache in place."""
        return self.forward_rows(embeds, cache)[0]

    def forward_rows(self, embeds: np.ndarray, cache: KVCache) -> np.ndarray:
        """`forward` for a cache of several rows (new_cache(..., rows)), all at the same length:
        embeds (rows, T, H) -> each row's last logits (rows, vocab)."""
        total = cache.length + embeds.shape[1]
        if total > cache.capacity:
            raise ValueError(f"{total} positions do not fit the cache of {cache.capacity}")
        binding = self.session.io_binding()
        binding.bind_cpu_input(self.embeds_name, np.ascontiguousarray(embeds, dtype=np.float32))
        binding.bind_cpu_input(self.mask_name, np.ones((embeds.shape[0], total), np.int64))
        for names, buffers in ((self.past_keys, cache.keys), (self.past_values, cache.values)):
            for name, buffer in zip(names, buffers, strict=True):
                binding.bind_ortvalue_input(name, buffer)
        for name, buffer in zip(self.present, cache.keys + cache.values, strict=True):
            binding.bind_ortvalue_output(name, buffer)
        binding.bind_output(self.logits_name)
        self.session.run_with_iobinding(binding)
        cache.length = total
        return binding.get_outputs()[-1].numpy()[:, -1]   # logits: bound last

    def prefill(self, embeds: np.ndarray, capacity: int | None = None) -> tuple[np.ndarray, KVCache]:
        """The prompt's logits and a cache of its own with room for `capacity` positions (default: the
        prompt + 1), for decoding alone with `step` (served requests `join` a lockstep instead; this is
        the tests' and benches' reference). A prompt prefilled recently (or being prefilled by another
        request) is not run again: its KV rows are copied into this request's cache."""
        prefilled = self.prefixes.get(digest(embeds), lambda: self._prefill_rows(embeds))
        return prefilled.logits.copy(), self.cache_from(prefilled, capacity or embeds.shape[1] + 1)

    def cache_from(self, prefilled: Prefilled, capacity: int, rows: int = 1) -> KVCache:
        """A new cache of `rows` rows with room for `capacity` positions, each row a copy of the prefill's."""
        length = prefilled.keys[0].shape[2]
        cache = self.new_cache(capacity, rows)
        for buffers, kept in ((cache.keys, prefilled.keys), (cache.values, prefilled.values)):
            for buffer, row in zip(buffers, kept, strict=True):
                buffer.numpy()[:, :, :length] = row     # numpy() is a view of the bound buffer
        cache.length = length
        return cache

    def join(self, embeds: np.ndarray, capacity: int) -> Seat:
        """This request's row of the lockstep of the requests for the same prompt (`embeds`) that came
        while its prefill ran, with room for `capacity` positions; the prefill is shared as `prefill`'s."""
        key = digest(embeds)
        return self.gatherings.join(key, capacity, self,
                                    lambda: self.prefixes.get(key, lambda: self._prefill_rows(embeds)))

    def _prefill_rows(self, embeds: np.ndarray) -> Prefilled:
        length = embeds.shape[1]
        cache = self.new_cache(length)
        logits = self.forward(embeds, cache)
        rows = lambda buffers: tuple(b.numpy()[:, :, :length].copy() for b in buffers)  # noqa: E731
        return Prefilled(logits.copy(), rows(cache.keys), rows(cache.values))

    def step(self, token: int, cache: KVCache) -> np.ndarray:
        """The logits after `token`, decoding alone in `cache` (from `prefill`)."""
        return self.forward(np.asarray(self.embeddings[[token]], dtype=np.float32)[None], cache)
