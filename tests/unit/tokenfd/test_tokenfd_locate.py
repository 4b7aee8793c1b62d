"""LocatePipeline (what tokenfd_locate runs per request), with the tiny export and
ONNX Runtime in-process as the encoder: validation, chunking and query padding."""
import io

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenfd.config import DEFAULT_MAX_TILES
from services.models.tokenfd.triton import contract
from services.models.tokenfd.triton.locate import LocatePipeline, padded_length
from services.triton.errors import triton_error_message


def png(width, height, text="percept"):
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).text((10, height // 3), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def export(tokenfd_artifacts):
    return tokenfd_artifacts.export


@pytest.fixture(scope="module")
def encode(export):
    session = ort.InferenceSession(str(export / "encoder.onnx"), providers=["CPUExecutionProvider"])
    calls = []

    def run(pixels, queries):
        calls.append((pixels.shape, queries.shape))
        return session.run([contract.ENC_SIMILARITY], {contract.ENC_PIXELS: pixels, contract.ENC_QUERY: queries})[0]

    run.calls = calls
    return run


def pipeline(export, **options):
    return LocatePipeline.from_directory(export, **options)


def _code(excinfo):
    return excinfo.value.code


def test_padded_length():
    assert [padded_length(n) for n in (1, 2, 3, 4, 5, 8, 9, 64)] == [1, 2, 4, 4, 8, 8, 16, 64]


def test_error_message_carries_the_stable_code():
    error = PerceptError(ErrorCode.INVALID_QUERY, "the query is empty")
    assert triton_error_message(error) == "[invalid_query] the query is empty"


def test_the_typed_error_survives_the_trip_through_triton():
    from services.triton.errors import error_from_triton_message

    error = PerceptError(ErrorCode.IMAGE_TOO_LARGE, "the image has too many pixels")
    back = error_from_triton_message(f"in ensemble step: {triton_error_message(error)}")
    assert back is not None and back.code is ErrorCode.IMAGE_TOO_LARGE and back.message == error.message
    assert error_from_triton_message("[not_a_code] x") is None
    assert error_from_triton_message("plain failure") is None


@pytest.mark.parametrize("query, code", [
    (b"", ErrorCode.INVALID_QUERY),
    (" \n\t", ErrorCode.INVALID_QUERY),
    (b"\xc3\x28", ErrorCode.INVALID_QUERY),
    ("q" * 257, ErrorCode.QUERY_TOO_LONG),
])
def test_bad_queries_are_client_faults(export, encode, query, code):
    with pytest.raises(PerceptError) as caught:
        pipeline(export).run(png(64, 64), query, encode)
    assert _code(caught) is code and caught.value.http_status // 100 == 4


def test_too_many_tokens_is_a_client_fault(export, encode, monkeypatch):
    monkeypatch.setenv("PERCEPT_MAX_QUERY_TOKENS", "1")
    with pytest.raises(PerceptError) as caught:
        pipeline(export).run(png(64, 64), "percept perception perceptive", encode)
    assert _code(caught) is ErrorCode.QUERY_TOO_LONG


def test_input_limits_are_read_once_when_the_pipeline_is_built(export, encode, monkeypatch):
    monkeypatch.setenv("PERCEPT_MAX_QUERY_TOKENS", "1")
    built = pipeline(export)
    monkeypatch.setenv("PERCEPT_MAX_QUERY_TOKENS", "64")  # a later change is not seen per request
    with pytest.raises(PerceptError) as caught:
        built.run(png(64, 64), "percept perception perceptive", encode)
    assert _code(caught) is ErrorCode.QUERY_TOO_LONG


@pytest.mark.parametrize("name", ["PERCEPT_MAX_QUERY_TOKENS", "PERCEPT_MAX_IMAGE_PIXELS", "PERCEPT_MAX_QUERY_CHARS"])
def test_a_malformed_limit_fails_the_build_naming_the_variable(export, monkeypatch, name):
    from services.common.settings import SettingsError

    monkeypatch.setenv(name, "-3")
    with pytest.raises(SettingsError, match=name):
        pipeline(export)


def test_a_query_without_tokens_is_a_client_fault(export, encode):
    class NoTokens:
        def encode_query(self, text):
            return [], []

    embeddings = np.load(export / "tok_embeddings.npy", mmap_mode="r")
    with pytest.raises(PerceptError) as caught:
        LocatePipeline(NoTokens(), embeddings).run(png(64, 64), "percept", encode)
    assert _code(caught) is ErrorCode.INVALID_QUERY


@pytest.mark.parametrize("image, code", [
    (b"", ErrorCode.EMPTY_IMAGE),
    (b"GIF89a not really", None),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None),
])
def test_bad_images_are_client_faults(export, encode, image, code):
    with pytest.raises(PerceptError) as caught:
        pipeline(export).run(image, "percept", encode)
    assert caught.value.http_status // 100 == 4
    if code is not None:
        assert _code(caught) is code


@pytest.mark.parametrize("max_tiles", [0, -1, DEFAULT_MAX_TILES + 1])
def test_max_tiles_out_of_range(export, encode, max_tiles):
    with pytest.raises(PerceptError) as caught:
        pipeline(export).run(png(64, 64), "percept", encode, max_tiles=max_tiles)
    assert _code(caught) is ErrorCode.INVALID_REQUEST


def test_chunks_never_exceed_the_encoder_batch_and_do_not_change_the_result(export, encode):
    image = png(1400, 420)  # several tiles plus the thumbnail
    whole = pipeline(export).run(image, "percept", encode)
    encode.calls.clear()
    chunked = pipeline(export, encoder_max_batch_size=2).run(image, "percept", encode)
    assert whole.num_tiles > 2
    assert len(encode.calls) == -(-whole.num_tiles // 2)
    assert all(pixels[0] <= 2 for pixels, _ in encode.calls)
    np.testing.assert_allclose(chunked.similarity, whole.similarity, atol=1e-5, rtol=0)


def test_query_padding_reaches_the_encoder_and_is_dropped_after(export, encode):
    image = png(300, 300)
    candidates = ["percept 42!", "token level text", "where is the text", "a", "ab cd"]
    plain_pipeline, padded_pipeline = pipeline(export, pad_query_tokens=False), pipeline(export)
    query = next((q for q in candidates
                  if padded_length(len(plain_pipeline.tokenize(q)[0])) != len(plain_pipeline.tokenize(q)[0])), None)
    if query is None:
        pytest.skip("every candidate query tokenizes to a power-of-two length")
    plain = plain_pipeline.run(image, query, encode)
    encode.calls.clear()
    padded = padded_pipeline.run(image, query, encode)
    tokens = len(padded.token_ids)
    (_, query_shape), = encode.calls
    assert query_shape[1] == padded_length(tokens) > tokens
    assert padded.similarity.shape == plain.similarity.shape and padded.similarity.shape[0] == tokens
    np.testing.assert_allclose(padded.similarity, plain.similarity, atol=1e-5, rtol=0)
    assert padded.token_texts == plain.token_texts and len(padded.token_texts) == tokens


def test_result_fields(export, encode):
    result = pipeline(export).run(png(640, 320), "percept", encode)
    cols, rows = result.grid
    assert result.image_size == (640, 320)
    assert result.similarity.dtype == np.float32
    assert result.similarity.shape == (len(result.token_ids), contract.FEATURE_GRID * rows,
                                       contract.FEATURE_GRID * cols)
    assert result.token_ids.dtype == np.int64
    assert result.num_tiles == cols * rows + (1 if cols * rows > 1 else 0)


def test_a_spelled_word_brings_its_letters_maps_and_leaves_its_tokens_maps_alone(export, encode):
    image = png(640, 320)
    plain = pipeline(export).run(image, "percept", encode)
    spelled = pipeline(export).run(image, "percept", encode, spell=True)
    assert spelled.letter_texts == ["\u2581p", "e", "r", "c", "e", "p", "t"]
    assert spelled.letter_similarity.shape == (7, *plain.similarity.shape[1:])
    np.testing.assert_allclose(spelled.similarity, plain.similarity, atol=1e-5, rtol=0)
    # the first letter's map is its own piece's: the map of the query "p" (tokenised as "\u2581p")
    alone = pipeline(export).run(image, "p", encode)
    assert alone.token_texts == ["\u2581p"]
    np.testing.assert_allclose(spelled.letter_similarity[0], alone.similarity[0], atol=1e-5, rtol=0)
    assert plain.letter_texts == [] and plain.letter_similarity.shape[0] == 0
    assert pipeline(export).run(image, "percept serves", encode, spell=True).letter_texts == []
