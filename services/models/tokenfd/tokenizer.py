"""Query tokenisation for TokenFD (sentencepiece only; runs inside Triton).

Upstream loads InternLM2's slow tokenizer through remote code; all it does for a
query is run the checkpoint's sentencepiece model. InternLM2's model does not add a
dummy-prefix space, so upstream adds the space itself:

* a query starting with punctuation or a digit is tokenised as is,
* any other query is tokenised as ``' ' + query`` (so "hello" gets the word-initial
  piece "▁hello", as inside running text);
* the BOS token is dropped (this module never adds one).
"""
from __future__ import annotations

import string
import unicodedata
from pathlib import Path

import sentencepiece as spm


def needs_leading_space(query: str) -> bool:
    """False when the query starts with punctuation (ASCII or Unicode) or a digit."""
    if not query:
        return False
    first = query[0]
    if first in string.punctuation or first.isdigit():
        return False
    return not unicodedata.category(first).startswith("P")


class QueryTokenizer:
    def __init__(self, processor: spm.SentencePieceProcessor) -> None:
        self.processor = processor
        self.bos_id = processor.bos_id()  # -1 when the model has none

    @classmethod
    def from_file(cls, path: str | Path) -> "QueryTokenizer":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"tokenizer model {path} does not exist")
        processor = spm.SentencePieceProcessor()
        try:
            processor.Load(str(path))
        except (OSError, RuntimeError) as exc:
            raise ValueError(f"{path} is not a sentencepiece model: {exc}") from exc
        return cls(processor)

    @classmethod
    def from_bytes(cls, model: bytes) -> "QueryTokenizer":
        processor = spm.SentencePieceProcessor()
        processor.LoadFromSerializedProto(model)
        return cls(processor)

    @property
    def vocab_size(self) -> int:
        """Pieces in the sentencepiece model (InternLM2: 92544; its embedding table has 9
        more rows for added special tokens, which a query never produces)."""
        return int(self.processor.GetPieceSize())

    def encode_query(self, text: str) -> tuple[list[int], list[str]]:
        """(ids, pieces) of a query, one embedding row per id."""
        if not text:
            return [], []
        if needs_leading_space(text):
            text = " " + text
        ids = [int(i) for i in self.processor.EncodeAsIds(text)]
        if ids and ids[0] == self.bos_id:
            ids = ids[1:]
        return ids, [self.processor.IdToPiece(i) for i in ids]

    def spell(self, word: str) -> tuple[list[int], list[str]]:
        """(ids, pieces) of a one-word query's characters, one piece each, as the characters stand inside a word:
        the first as a word-initial piece ("\u2581a") when the query takes a leading space, the others bare ("d").
        Empty for a query of several words, or when a character has no piece of its own (a vocabulary built from
        other text): a word read letter by letter needs every letter."""
        if not word or any(character.isspace() for character in word):
            return [], []
        marker = "\u2581" if needs_leading_space(word) else ""
        pieces = [marker + word[0], *word[1:]]
        ids = [int(self.processor.PieceToId(piece)) for piece in pieces]
        if any(i == self.processor.unk_id() or self.processor.IdToPiece(i) != piece for i, piece in zip(
                ids, pieces, strict=True)):
            return [], []
        return ids, pieces
