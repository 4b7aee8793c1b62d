"""The code tokenizer: TokenVL's special tokens, lossless on a program, deterministic, a template word a token."""
from __future__ import annotations

from services.models.codepercept import tokenizer as mini_tokenizer
from services.models.codepercept.config import CODE_QUESTION, SYSTEM_MESSAGE
from services.models.codepercept.corpus import read_samples
from services.models.codepercept.data import Examples
from services.models.tokenvl.tokens import SPECIAL_TOKENS, TOKENIZER_FILE, Tokenizer


def test_a_program_round_trips_and_special_tokens_are_single_ids(corpora):
    train, heldout = corpora
    tokenizer = Tokenizer.from_file(train / TOKENIZER_FILE)
    assert tokenizer.tokenizer.get_vocab_size(with_added_tokens=True) <= 600
    for index, token in enumerate(SPECIAL_TOKENS):       # InternLM2's order: <unk> 0, <s> 1, </s> 2, ...
        assert tokenizer.tokenizer.token_to_id(token) == index
    for sample in read_samples(heldout):                 # programs the tokenizer never saw
        ids = tokenizer.encode(sample.code)
        assert tokenizer.decode(ids) == sample.code
        assert len(ids) < len(sample.code) / 1.5         # merges learned for code (bytes alone: one a character)
    weird = "Größe 文档 ✓\n\tx = 1"
    assert tokenizer.decode(tokenizer.encode(weird)) == weird
    assert tokenizer.encode("<|im_end|>") == [tokenizer.im_end_id]


def test_training_is_deterministic_and_a_template_word_is_a_token(corpora):
    train, _ = corpora
    texts = mini_tokenizer.corpus_texts(train)
    assert mini_tokenizer.train(texts, 600) == mini_tokenizer.train(texts, 600)
    tokenizer = Tokenizer.from_file(train / TOKENIZER_FILE)
    for text in (SYSTEM_MESSAGE, "\n" + CODE_QUESTION):   # every word of the template is one token
        words = tokenizer.tokenizer.pre_tokenizer.pre_tokenize_str(text)
        assert len(tokenizer.encode(text)) == len(words)
    examples = Examples(train, tokenizer, max_target_tokens=100)
    prompt = examples.prompt_ids("code", 1)
    assert 256 < len(prompt) <= 256 + 48                 # one tile's image tokens and the template (42)
