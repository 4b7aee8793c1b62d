"""Preparing a request against the model's context: several large images share it by a lower
tile cap (down to one tile each) before a request is refused as too long."""
import io

import numpy as np
import pytest

from services.common.errors import ErrorCode, PerceptError
from services.models.tokenvl.triton.generation import TokenVLGeneration, TokenVLRequest


def _png(width, height):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 200, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def export(tokenfd_artifacts):
    return tokenfd_artifacts.tokenvl_export


def _generation(export, context_length):
    return TokenVLGeneration.from_directory(export, context_length=context_length, max_images=4)


def test_one_large_image_gets_every_tile_when_it_fits(export):
    prepared = _generation(export, 8192).prepare(TokenVLRequest(prompt="Read.", images=[_png(1792, 1344)],
                                                                   max_tokens=16))
    assert prepared.pixel_values.shape[0] == 13   # 4x3 grid + thumbnail


def test_several_large_images_share_the_context_with_fewer_tiles(export):
    request = TokenVLRequest(prompt="Compare.", images=[_png(1792, 1344)] * 3, max_tokens=64)
    prepared = _generation(export, 8192).prepare(request)
    tiles = prepared.pixel_values.shape[0]
    assert tiles < 3 * 13 and tiles % 3 == 0
    assert len(prepared.prompt.ids) + 64 <= 8192
    assert prepared.prompt.image_tokens == 256 * tiles


def test_a_request_that_cannot_fit_even_at_one_tile_is_refused(export):
    with pytest.raises(PerceptError) as raised:
        _generation(export, 1024).prepare(TokenVLRequest(prompt="Compare.", images=[_png(800, 600)] * 4,
                                                            max_tokens=64))
    assert raised.value.code is ErrorCode.CONTEXT_LENGTH_EXCEEDED
    assert "at the fewest tiles" in raised.value.message


@pytest.mark.parametrize("images", [0, 1])
def test_a_placeholder_in_prompt_is_a_typed_refusal_not_a_crash(export, images):
    # PROMPT places its images itself; a placeholder there once ended in a StopIteration.
    request = TokenVLRequest(prompt="What is in <image>?", images=[_png(64, 64)] * images, max_tokens=4)
    with pytest.raises(PerceptError) as raised:
        _generation(export, 8192).prepare(request)
    assert raised.value.code is ErrorCode.INVALID_REQUEST
    assert "MESSAGES" in raised.value.message
