"""The protocol's image: JPEG, and the 1,310,720-pixel cap (factor 32, min 4096 px, long side 8192)."""
import io

import pytest
from PIL import Image

from services.codeperception.vlm_image import FACTOR, MAX_LONG_SIDE, MAX_PIXELS, capped_size, protocol_jpeg


@pytest.mark.parametrize("size", [(1920, 1440), (4000, 3000), (1281, 1025), (20000, 300), (100000, 40)])
def test_above_the_cap_the_size_is_grid_aligned_and_within_every_bound(size):
    width, height = capped_size(*size)
    assert width * height <= MAX_PIXELS and max(width, height) <= MAX_LONG_SIDE
    assert width % FACTOR == 0 and height % FACTOR == 0 and width >= FACTOR and height >= FACTOR


def test_the_aspect_ratio_is_kept_and_the_area_used():
    width, height = capped_size(1920, 1440)
    assert abs(width / height - 4 / 3) < 0.05  # within one 32-px step of the short side
    assert width * height > 0.9 * MAX_PIXELS


def test_within_the_cap_nothing_changes():
    assert capped_size(1280, 1024) == (1280, 1024)  # exactly 1,310,720
    assert capped_size(33, 17) == (33, 17)


def test_the_image_is_sent_as_jpeg_at_the_capped_size():
    jpeg = protocol_jpeg(Image.new("RGB", (1920, 1440), "white"))
    decoded = Image.open(io.BytesIO(jpeg))
    assert decoded.format == "JPEG" and decoded.size == capped_size(1920, 1440)
