"""Glyph boxes -> words -> tokens of the tokenizer, each with its box and pixel mask.

A word is a run of drawn characters without spaces (a wide gap splits it too: two table cells
that a PDF's text layer joined). Each word is tokenised exactly as a query is
(services/models/tokenfd/tokenizer.py: with its leading space unless it starts with punctuation
or a digit), so the pieces a user's query produces are the pieces the model was trained to
find. A token's box is the union of its characters' ink boxes; the masks are one label image in
which pixel value k+1 marks token k (0 is background), so any geometric augmentation moves the
masks with the pixels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from services.models.tokenfd.tokenizer import QueryTokenizer

from .canvas import Box

WORD_GAP = 1.2            # a gap wider than this many character heights splits a word
_BYTE_PIECE = re.compile(r"^<0x[0-9A-Fa-f]{2}>$")
SPACE_PIECE = "\u2581"


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    chars: tuple[Box, ...]


@dataclass(frozen=True)
class Token:
    id: int
    piece: str
    box: Box
    word: int             # index into the page's words


def union(boxes) -> Box:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def words_from_chars(chars) -> list[Word]:
    words: list[Word] = []
    text, boxes = [], []

    def flush() -> None:
        if text:
            words.append(Word("".join(text), union(boxes), tuple(boxes)))
        text.clear()
        boxes.clear()

    for char, box in chars:
        if char is None or box is None or char.isspace():
            flush()
            continue
        if boxes:
            last = boxes[-1]
            height = max(last[3] - last[1], box[3] - box[1], 1.0)
            if box[0] - last[2] > WORD_GAP * height or box[2] < last[0]:   # a gap, or a new line
                flush()
        text.append(char)
        boxes.append(box)
    flush()
    return words


def piece_lengths(pieces: list[str]) -> list[int]:
    """Characters of the (space-prefixed) query text each piece covers."""
    return [1 if _BYTE_PIECE.match(piece) else len(piece) for piece in pieces]


def tokenize_words(tokenizer: QueryTokenizer, words: list[Word]) -> list[Token]:
    tokens: list[Token] = []
    for index, word in enumerate(words):
        ids, pieces = tokenizer.encode_query(word.text)
        position = -1 if pieces and pieces[0].startswith(SPACE_PIECE) else 0   # the added leading space
        for token_id, piece, length in zip(ids, pieces, piece_lengths(pieces), strict=True):
            span = range(max(position, 0), min(position + length, len(word.chars)))
            position += length
            if len(span) == 0:
                continue   # a lone space piece draws nothing
            tokens.append(Token(token_id, piece, union(word.chars[i] for i in span), index))
    return tokens


def label_map(size: tuple[int, int], tokens: list[Token]) -> np.ndarray:
    """(height, width) uint16: k+1 where token k's box is (later tokens win overlaps)."""
    width, height = size
    labels = np.zeros((height, width), dtype=np.uint16)
    for k, token in enumerate(tokens[:np.iinfo(np.uint16).max - 1]):
        x0, y0, x1, y1 = token.box
        labels[max(0, int(y0)):max(0, int(np.ceil(y1))), max(0, int(x0)):max(0, int(np.ceil(x1)))] = k + 1
    return labels


def drawn_tokens(tokens: list[Token], labels: np.ndarray) -> tuple[list[Token], np.ndarray]:
    """The tokens that still have pixels in `labels` (after a rotation), each boxed by its pixels, and
    the label map renumbered to match: label k+1 stays the kept list's token k, past any dropped one."""
    boxes = boxes_from_labels(labels, len(tokens))
    kept = [Token(t.id, t.piece, box, t.word) for t, box in zip(tokens, boxes, strict=True) if box is not None]
    renumbered = np.zeros(len(tokens) + 1, dtype=labels.dtype)
    renumbered[[k + 1 for k, box in enumerate(boxes) if box is not None]] = np.arange(1, len(kept) + 1)
    return kept, renumbered[labels]


def boxes_from_labels(labels: np.ndarray, count: int) -> list[Box | None]:
    """Each token's box as the bounding box of its label pixels (None when it left the image)."""
    ys, xs = np.nonzero(labels)
    values = labels[ys, xs].astype(np.int64) - 1
    boxes: list[Box | None] = [None] * count
    if values.size:
        for k in np.unique(values):
            if k < count:
                sel = values == k
                boxes[k] = (float(xs[sel].min()), float(ys[sel].min()), float(xs[sel].max() + 1),
                            float(ys[sel].max() + 1))
    return boxes
