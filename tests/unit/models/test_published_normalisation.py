"""TokenFD's and TokenVL's pixel normalisation is InternViT's published one.

Both models take tiles normalised with the ImageNet mean and std that InternViT (and so
TokenOCR and InternVL2.5) was trained with: to [0, 1], minus mean, over std, channels first.
The numbers are written here from the published values, not imported from the code, and one
tile of each model's serving path (TokenFD's locate pipeline, TokenVL's request preparation)
is compared with a normalisation written in this file: a module that swapped in another
model's constants (CLIP's, say) fails both checks.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from services.common import limits
from services.models.tokenfd import preprocess
from services.models.tokenfd.triton.locate import LocatePipeline
from services.models.tokenvl.triton.generation import TokenVLGeneration, TokenVLRequest

PUBLISHED_MEAN = (0.485, 0.456, 0.406)   # ImageNet, as InternViT / InternVL2.5 preprocess
PUBLISHED_STD = (0.229, 0.224, 0.225)
SIDE = 448                               # one tile, so the tile is the image itself (no resize)


@pytest.fixture(scope="module")
def noise():
    """A 448x448 RGB image of random pixels (every channel value in play) and its PNG bytes."""
    pixels = np.random.default_rng(7).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "PNG")
    return pixels, buffer.getvalue()


def normalised_by_hand(pixels: np.ndarray) -> np.ndarray:
    """(3, H, W): each channel c of the 8-bit image as (value / 255 - mean[c]) / std[c]."""
    out = np.empty((3, *pixels.shape[:2]), np.float64)
    for channel in range(3):
        values = pixels[:, :, channel].astype(np.float64) / 255.0
        out[channel] = (values - PUBLISHED_MEAN[channel]) / PUBLISHED_STD[channel]
    return out


def test_the_constants_are_the_published_ones():
    np.testing.assert_array_equal(preprocess.IMAGENET_MEAN, np.array(PUBLISHED_MEAN, np.float32))
    np.testing.assert_array_equal(preprocess.IMAGENET_STD, np.array(PUBLISHED_STD, np.float32))


class _OneTokenTokenizer:
    def encode_query(self, text):
        return [0], [text]


def test_a_tokenfd_tile_is_normalised_as_published(noise):
    pixels, png = noise
    pipeline = LocatePipeline(_OneTokenTokenizer(), np.zeros((1, 4), np.float32),
                              input_limits={limits.MAX_QUERY_CHARS.name: 64, limits.MAX_QUERY_TOKENS.name: 8,
                                            limits.MAX_IMAGE_PIXELS.name: SIDE * SIDE})
    tiled = pipeline.prepare(png, "total").tiled
    assert tiled.pixel_values.shape == (1, 3, SIDE, SIDE) and not tiled.has_thumbnail
    np.testing.assert_allclose(tiled.pixel_values[0], normalised_by_hand(pixels), rtol=0, atol=1e-5)


def test_a_tokenvl_tile_is_normalised_as_published(noise):
    from tokenizers import Tokenizer as HFTokenizer

    from services.models.tokenvl.fixtures import train_fixture_tokenizer
    from services.models.tokenvl.tokens import Tokenizer

    pixels, png = noise
    generation = TokenVLGeneration(Tokenizer(HFTokenizer.from_str(train_fixture_tokenizer())), None,
                                   context_length=4096, max_images=1, max_image_pixels=SIDE * SIDE)
    prepared = generation.prepare(TokenVLRequest(prompt="Read it.", images=[png], max_tokens=4))
    assert prepared.pixel_values.shape == (1, 3, SIDE, SIDE)
    np.testing.assert_allclose(prepared.pixel_values[0], normalised_by_hand(pixels), rtol=0, atol=1e-5)
