"""Requests that share a prefill decode in lockstep: one forward pass per step for all of them.

Best of N sends N requests with the same image and prompt at the same moment. Decoded side by side,
each token of each request is its own forward pass of the decoder, and on a CPU a pass over 4 rows
costs little more than a pass over 1 (the weights are read once). So the requests that arrive while
a prompt's prefill runs form a `Lockstep` when it finishes: one KV cache of as many rows, each row a
copy of the prefill, and a step that runs once every row still decoding has handed in its token.
Each request keeps its own sampler, stop strings, finish and cancellation: a row that is done
`leave`s, and the others go on without waiting for it. A request that comes after the prefill
(kept by the decoder, services/triton/shared_results.py) starts a lockstep of its own.

Rows that have left still ride in the batch until every row has (their token is a filler and their
output unread): dropping rows would copy the cache, and a pass over fewer rows is hardly cheaper.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Hashable

import numpy as np

if TYPE_CHECKING:
    from services.models.tokenvl.triton.decoder import Decoder, Prefilled

FILLER_TOKEN = 0   # the token of a row that has left (its output is never read)
# The generation model's counters of decoding (on Triton's metrics page, label `model`): forward passes
# after the prefill, and the tokens they decoded (one per row still decoding). Their ratio is how many
# requests a pass served: 1 side by side, up to N for best of N's samples in lockstep.
DECODE_PASSES_METRIC = "percept_generation_decode_passes_total"
DECODE_TOKENS_METRIC = "percept_generation_decode_tokens_total"


class Lockstep:
    def __init__(self, decoder: "Decoder", prefilled: "Prefilled", capacities: list[int]) -> None:
        self.decoder = decoder
        self.rows = len(capacities)
        self.cache = decoder.cache_from(prefilled, max(capacities), rows=self.rows)
        self.capacities = capacities
        self.first_logits = prefilled.logits
        self._ready = threading.Condition()
        self._active = set(range(self.rows))
        self._tokens = np.full(self.rows, FILLER_TOKEN, dtype=np.int64)
        self._handed_in: set[int] = set()
        self._steps = 0                      # forward passes run
        self._logits: np.ndarray | None = None
        self._error: BaseException | None = None

    def step(self, row: int, token: int) -> np.ndarray:
        """Row `row`'s logits after `token`: waits for the other rows' tokens, or runs the pass when
        this is the last one handed in."""
        with self._ready:
            if row not in self._active:
                raise RuntimeError(f"row {row} has left the lockstep")
            if self.cache.length + 1 > self.capacities[row]:
                raise ValueError(f"row {row} is past its {self.capacities[row]} positions")
            self._tokens[row] = token
            self._handed_in.add(row)
            step = self._steps
            if self._handed_in >= self._active:
                self._forward()
            else:
                self._ready.wait_for(lambda: self._steps > step or self._error is not None)
            if self._error is not None:
                raise RuntimeError("the lockstep's forward pass failed") from self._error
            return self._logits[row].copy()

    def leave(self, row: int) -> None:
        """Row `row` decodes no more; if the others were waiting only for it, their pass runs."""
        with self._ready:
            if row not in self._active:
                return
            self._active.discard(row)
            self._handed_in.discard(row)
            self._tokens[row] = FILLER_TOKEN
            if self._active and self._handed_in >= self._active and self._error is None:
                self._forward()

    def _forward(self) -> None:
        """One pass for every row (called with the lock held, when every active row has handed in)."""
        try:
            embeds = np.asarray(self.decoder.embeddings[self._tokens], dtype=np.float32)[:, None]
            self._logits = self.decoder.forward_rows(embeds, self.cache)
            if self.decoder.on_pass is not None:   # the metrics: the rows this pass decoded for
                self.decoder.on_pass(len(self._active))
        except BaseException as exc:  # noqa: BLE001 - every waiting row raises it
            self._error = exc
        self._handed_in.clear()
        self._steps += 1
        self._ready.notify_all()


@dataclass
class Seat:
    """One request's row of a lockstep: its first logits, then `step` per token; `leave` when done."""
    lockstep: Lockstep
    row: int

    @property
    def first_logits(self) -> np.ndarray:
        return self.lockstep.first_logits.copy()

    def step(self, token: int) -> np.ndarray:
        return self.lockstep.step(self.row, token)

    def leave(self) -> None:
        self.lockstep.leave(self.row)


@dataclass
class _Gathering:
    capacities: list[int] = field(default_factory=list)
    formed: Future = field(default_factory=Future)


class Gatherings:
    """Requests for one prompt that arrive while its prefill runs join one lockstep."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[Hashable, _Gathering] = {}

    def join(self, key: Hashable, capacity: int, decoder: "Decoder", prefill: Callable[[], "Prefilled"]) -> Seat:
        with self._lock:
            gathering = self._open.get(key)
            owner = gathering is None
            if owner:
                gathering = self._open[key] = _Gathering()
            row = len(gathering.capacities)
            gathering.capacities.append(capacity)
        if owner:
            try:
                prefilled = prefill()
            except BaseException as exc:
                with self._lock:
                    del self._open[key]
                gathering.formed.set_exception(exc)
                raise
            with self._lock:   # closed: a request from now on starts a lockstep of its own
                del self._open[key]
            try:
                gathering.formed.set_result(Lockstep(decoder, prefilled, gathering.capacities))
            except BaseException as exc:
                gathering.formed.set_exception(exc)
                raise
        return Seat(gathering.formed.result(), row)
