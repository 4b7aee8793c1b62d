"""A few engine programs rendered by the real sandbox (the corpus CLI's own path), shared by the tests."""
from __future__ import annotations

import pytest

from services.evaluation.shards import Shard
from services.models.codepercept import corpus as mini_corpus
from services.models.codepercept import tokenizer as mini_tokenizer
from services.models.tokenfd.config import get_config as tokenfd_config
from services.models.tokenvl.config import LLMConfig, TokenVLConfig
from services.models.tokenvl.tokens import TOKENIZER_FILE

FAMILIES = ("bar_chart", "function_plot", "pie_chart")
VOCAB = 600


def tiny_sizes(vocab_size: int) -> TokenVLConfig:
    """The real graph in miniature: TokenFD's tiny ViT (so its fixture initialises it), a 2-layer LLM."""
    return TokenVLConfig(tokenfd_config("tiny").vision,
                         LLMConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   intermediate_size=128, vocab_size=vocab_size, max_position_embeddings=2048),
                         name="codepercept-tiny")


def make_corpora(root):
    """(train, heldout): 4 and 3 engine programs at 50 dpi, and a tokenizer trained on the first."""
    train, heldout = root / "train", root / "heldout"
    mini_corpus.generate(train, count=4, seed=0, shard=Shard.whole(), dpi=50, families=FAMILIES)
    mini_corpus.generate(heldout, count=3, seed=1, shard=Shard.whole(), dpi=50, families=FAMILIES)
    (train / TOKENIZER_FILE).write_text(mini_tokenizer.train(mini_tokenizer.corpus_texts(train), VOCAB))
    return train, heldout


@pytest.fixture(scope="package")
def corpora(tmp_path_factory):
    return make_corpora(tmp_path_factory.mktemp("codepercept"))
