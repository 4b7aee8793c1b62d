"""CodePercept-mini's tokenizer: a byte-level BPE fit for code, in TokenVL's layout (tokenizer.json
with InternLM2's special tokens, services/models/tokenvl/tokens.py), trained on the engine's programs
and captions the way services/models/tokenvl/fixtures.py trains the fixture's.

    python -m services.models.codepercept.tokenizer --corpus DIR [--vocab-size N]   -> DIR/tokenizer.json

Byte-level, so any text encodes (a user's figure title in any script); no prefix space, so the
indentation and the identifiers of a program split the same way everywhere. The chat template's
fixed text (role names, the system message, the two questions) is part of the training text, so a
prompt costs a few tokens. Deterministic: the same corpus and size give the same bytes.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from services.codeperception.extraction import fenced
from services.models.codepercept.config import SYSTEM_MESSAGE, TASKS, VOCAB_SIZE
from services.models.tokenvl.tokens import SPECIAL_TOKENS, TOKENIZER_FILE

TEMPLATE_REPEAT = 200   # the template's text counts like this many programs' worth of it


def template_text() -> list[str]:
    """The chat template's fixed pieces, as PromptBuilder writes them, and the code answer's fence."""
    return ["system\n", SYSTEM_MESSAGE, "user\n", "assistant\n", "\n", *(f"\n{q}" for q in TASKS.values()),
            fenced("")]


def train(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> str:
    """tokenizer.json text: a byte-level BPE over `texts` plus the template, TokenVL's special tokens first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    lines = list(texts) + template_text() * TEMPLATE_REPEAT
    tokenizer.train_from_iterator(lines, trainer)
    return tokenizer.to_str()


def corpus_texts(corpus_dir: str | Path) -> list[str]:
    """Every program and caption of a prepared corpus, in corpus order."""
    from services.models.codepercept.corpus import read_samples

    return [text for sample in read_samples(corpus_dir) for text in (sample.code, sample.caption)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.models.codepercept.tokenizer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a prepared corpus (corpus.py)")
    parser.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    parser.add_argument("--out", type=Path, default=None, help=f"default: CORPUS/{TOKENIZER_FILE}")
    args = parser.parse_args(argv)
    if args.vocab_size < 512:
        print("tokenizer: --vocab-size must be at least 512 (the 256 bytes, the special tokens, some merges)",
              file=sys.stderr)
        return 2
    out = args.out or args.corpus / TOKENIZER_FILE
    partial = out.with_name(out.name + ".partial")
    partial.write_text(train(corpus_texts(args.corpus), args.vocab_size), encoding="utf-8")
    partial.replace(out)
    print(f"tokenizer: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
