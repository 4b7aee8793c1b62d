"""Incremental detokenisation and stop strings (torch-free).

`IncrementalDetokenizer` turns generated ids into text deltas that never split a
multi-byte character: the text of the ids so far is decoded from a short window (the
last few ids), and a delta that ends in U+FFFD (a character still missing bytes) is held
back until the next token completes it. `StopMatcher` holds back text that could be the
start of a stop string, and cuts the text where one appears.
"""
from __future__ import annotations

from typing import Sequence

REPLACEMENT = "\ufffd"
WINDOW = 6     # ids of context decoded before the new ones (so byte-level merges decode right)


class IncrementalDetokenizer:
    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.prefix_offset = 0   # start of the decoding window
        self.read_offset = 0     # ids whose text was already emitted

    def push(self, token: int) -> str:
        self.ids.append(token)
        prefix = self.tokenizer.decode(self.ids[self.prefix_offset:self.read_offset])
        text = self.tokenizer.decode(self.ids[self.prefix_offset:])
        if len(text) > len(prefix) and not text.endswith(REPLACEMENT):
            delta = text[len(prefix):]
            self.prefix_offset = max(self.read_offset, len(self.ids) - WINDOW)
            self.read_offset = len(self.ids)
            return delta
        return ""

    def flush(self) -> str:
        """What is still held back at the end (an incomplete character decodes as U+FFFD)."""
        prefix = self.tokenizer.decode(self.ids[self.prefix_offset:self.read_offset])
        text = self.tokenizer.decode(self.ids[self.prefix_offset:])
        self.read_offset = len(self.ids)
        return text[len(prefix):]


class StopMatcher:
    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.stopped = False

    def push(self, text: str) -> str:
        """Text safe to emit now; sets `stopped` when a stop string appeared (it is not emitted)."""
        if self.stopped:
            return ""
        self.pending += text
        if not self.stops:
            out, self.pending = self.pending, ""
            return out
        hits = [self.pending.find(s) for s in self.stops]
        hits = [h for h in hits if h >= 0]
        if hits:
            out = self.pending[:min(hits)]
            self.pending, self.stopped = "", True
            return out
        hold = 0
        for stop in self.stops:   # the longest tail of pending that begins some stop string
            for size in range(min(len(stop) - 1, len(self.pending)), 0, -1):
                if stop.startswith(self.pending[-size:]):
                    hold = max(hold, size)
                    break
        out = self.pending[:len(self.pending) - hold]
        self.pending = self.pending[len(out):]
        return out

    def flush(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out
