"""The query rule of services.models.tokenfd.tokenizer, on the locally trained
fixture sentencepiece model (InternLM2-like: BPE, byte fallback, no dummy prefix)."""
import pytest

from services.models.tokenfd.config import FIXTURE_VOCAB_SIZE
from services.models.tokenfd.fixtures import train_fixture_tokenizer
from services.models.tokenfd.tokenizer import QueryTokenizer, needs_leading_space


@pytest.fixture(scope="module")
def tokenizer(fixture_tokenizer_model):
    return QueryTokenizer.from_file(fixture_tokenizer_model)


def raw(tokenizer, text):
    return [int(i) for i in tokenizer.processor.EncodeAsIds(text)]


@pytest.mark.parametrize("query, expected", [
    ("text", True), ("Total", True), ("über", True), ("文本", True), (" text", True),
    ("42", False), ("7up", False), ("٣", False),                      # digits, any script
    (",", False), ("(note)", False), ("$5", False), ("«quote»", False), ("—dash", False), ("¿qué", False),
    ("", False),
])
def test_leading_space_rule(query, expected):
    assert needs_leading_space(query) is expected


def test_a_word_is_tokenised_with_a_leading_space(tokenizer):
    ids, pieces = tokenizer.encode_query("text")
    assert ids == raw(tokenizer, " text")
    assert ids != raw(tokenizer, "text")      # the space matters: the model adds no dummy prefix
    assert pieces[0].startswith("\u2581")      # the word-initial piece
    assert pieces == [tokenizer.processor.IdToPiece(i) for i in ids]


@pytest.mark.parametrize("query", ["42 pages", "(note)", ".total", "3.14"])
def test_punctuation_or_digit_first_is_tokenised_as_is(tokenizer, query):
    ids, pieces = tokenizer.encode_query(query)
    assert ids == raw(tokenizer, query)
    assert not pieces[0].startswith("\u2581")


def test_no_bos_and_no_special_ids(tokenizer):
    processor = tokenizer.processor
    for query in ["the invoice total", "42", "unknown ñ€ bytes"]:
        ids, _ = tokenizer.encode_query(query)
        assert ids and processor.bos_id() not in ids and processor.eos_id() not in ids
        assert all(0 <= i < tokenizer.vocab_size for i in ids)


def test_unseen_characters_fall_back_to_bytes(tokenizer):
    ids, pieces = tokenizer.encode_query("€")
    assert tokenizer.processor.unk_id() not in ids
    assert all(p.startswith("<0x") or p == "\u2581" for p in pieces)


def test_empty_query_gives_no_tokens(tokenizer):
    assert tokenizer.encode_query("") == ([], [])


def test_vocab_and_special_ids_match_internlm2_layout(tokenizer):
    processor = tokenizer.processor
    assert tokenizer.vocab_size == FIXTURE_VOCAB_SIZE
    assert (processor.unk_id(), processor.bos_id(), processor.eos_id()) == (0, 1, 2)


def test_fixture_tokenizer_is_deterministic():
    assert train_fixture_tokenizer() == train_fixture_tokenizer()


def test_from_bytes_equals_from_file(tokenizer, fixture_tokenizer_model):
    other = QueryTokenizer.from_bytes(fixture_tokenizer_model.read_bytes())
    assert other.encode_query("the page") == tokenizer.encode_query("the page")


def test_missing_or_broken_model_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        QueryTokenizer.from_file(tmp_path / "absent.model")
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"not a sentencepiece model")
    with pytest.raises(ValueError, match="sentencepiece"):
        QueryTokenizer.from_file(broken)


def test_a_word_is_spelled_one_piece_per_character_as_they_stand_inside_it(tokenizer):
    ids, pieces = tokenizer.spell("text")
    assert pieces == ["\u2581t", "e", "x", "t"]
    assert ids == [tokenizer.processor.PieceToId(piece) for piece in pieces]
    assert tokenizer.spell("42")[1] == ["4", "2"]              # no leading space before a digit, as a query


def test_several_words_or_a_character_without_its_own_piece_are_not_spelled(tokenizer):
    assert tokenizer.spell("two words") == ([], [])
    assert tokenizer.spell("") == ([], [])
    assert tokenizer.spell("\u6587\u672c") == ([], [])          # characters only byte pieces cover
