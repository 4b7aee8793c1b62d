"""The subword tokenizer of TokenFD-mini: a BPE sentencepiece model trained on the engine's corpus.

Shaped like InternLM2's (and the fixture's, services/models/tokenfd/fixtures.py): byte fallback,
unk/bos/eos = 0/1/2, identity normalisation, no dummy prefix, whitespace kept, digits split. So
the existing query rule (services/models/tokenfd/tokenizer.py: a leading space unless the query
starts with punctuation or a digit) gives word-initial pieces, and a word is a few pieces, not
letters. Saved as ``tokenizer.model``, as in the upstream layout.
"""
from __future__ import annotations

import io
import random
from pathlib import Path

from . import corpus

VOCAB_SIZE = 2000        # the trial size: common words are one piece, rare ones two or three
FIELD_LINES = 4000       # generated field lines mixed in, so names, dates and codes get pieces too
SEED = 0


def training_lines(seed: int = SEED) -> list[str]:
    rng = random.Random(seed)
    lines = list(corpus.prose())
    for _ in range(FIELD_LINES):
        label = rng.choice(corpus.FORM_LABELS)
        lines.append(f"{label}: {corpus.field_value(rng, label)} {rng.choice(corpus.ITEMS)} "
                     f"{rng.choice(corpus.DOCUMENT_WORDS)} {corpus.amount(rng)}")
    return lines


def train(vocab_size: int = VOCAB_SIZE, seed: int = SEED) -> bytes:
    """The serialised sentencepiece model (deterministic for the same corpus and arguments)."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(training_lines(seed)), model_writer=model, vocab_size=vocab_size,
        model_type="bpe", byte_fallback=True, split_digits=True, add_dummy_prefix=False,
        remove_extra_whitespaces=False, normalization_rule_name="identity", character_coverage=1.0,
        num_threads=1, minloglevel=2, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, hard_vocab_limit=True,
        max_sentence_length=1 << 16)
    return model.getvalue()


def ensure(path: str | Path, vocab_size: int = VOCAB_SIZE) -> Path:
    """Train and write the tokenizer to `path` unless it is already there."""
    path = Path(path)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(train(vocab_size))
        partial.replace(path)
    return path
