"""The semantic tests' page and its variants, without a model (these run on every machine): the
drawn box is the word's ink in each variant's own pixels, and the test's IoU bound tells a right
answer from the wrong ones a broken pipeline gives -- a transposed box, or a box off by one tile
(a tile offset dropped in stitching) -- so the semantic tests fail for them."""
from __future__ import annotations

import math

import numpy as np
import pytest

from services.models.tokenfd.box_geometry import iou
from services.models.tokenfd.preprocess import choose_grid
from tests.integration.locate_semantic.page import (
    ABSENT,
    FONT_PX,
    HIT_IOU,
    LINES,
    PAGE_SIZE,
    TARGET,
    VARIANTS,
    render_page,
    transposed,
    x_height,
)


@pytest.fixture(scope="module")
def page():
    return render_page()


def test_the_page_is_an_a5_page_of_small_print_holding_the_target_once(page):
    assert page.image.size == PAGE_SIZE and page.image.mode == "RGB"
    assert 12 <= x_height(FONT_PX) <= 16
    words = [word for line in LINES for word in line.split()]
    assert words.count(TARGET) == 1 and len(words) > 15
    assert not any(ABSENT.lower() in word.lower() for word in words)
    x0, y0, x1, y1 = page.target_box
    assert 90 < x1 - x0 < 120 and 16 < y1 - y0 < 26          # "address" at 26 px: about 102 x 20 px of ink
    pixels = np.asarray(page.image.convert("L"))
    assert pixels[int(y0):int(y1), int(x0):int(x1)].min() < 64  # ink where the box says
    with pytest.raises(ValueError, match="drawn 0 times"):
        render_page(target="absent")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_transposed_box_misses_the_word_in_every_variant(page, name):
    variant, _ = VARIANTS[name](page)
    box = variant.target_box
    assert iou(box, transposed(box)) < HIT_IOU, "the test could not tell a transposed answer"


@pytest.mark.parametrize("max_tiles", [1, 12])
def test_a_box_off_by_one_tile_misses_the_word(page, max_tiles):
    cols, rows = choose_grid(*page.image.size, max_tiles=max_tiles)
    x0, y0, x1, y1 = page.target_box
    tile_w, tile_h = page.image.width / cols, page.image.height / rows
    for dx, dy in ((tile_w, 0), (0, tile_h), (-tile_w, 0)):
        assert iou(page.target_box, (x0 + dx, y0 + dy, x1 + dx, y1 + dy)) < HIT_IOU


def test_the_mask_follows_the_page_through_rotation_and_scaling(page):
    # The variants' boxes agree with the drawn box's corners mapped analytically (within the
    # resampling's pixel or two), so the ground truth of every variant is the word's.
    x0, y0, x1, y1 = page.target_box
    for factor in (0.75, 1.5):
        scaled = page.scaled(factor).target_box
        assert np.allclose(scaled, (x0 * factor, y0 * factor, x1 * factor, y1 * factor), atol=2.0)
    degrees = 2.0
    rotated = page.rotated(degrees)
    w, h = page.image.size
    cx, cy = w / 2, h / 2
    a = math.radians(degrees)
    # PIL turns counter-clockwise on screen (y down): x' = c + (x-c)cos + (y-c)sin, y' = c - (x-c)sin + (y-c)cos
    ox, oy = (rotated.image.width - w) / 2, (rotated.image.height - h) / 2
    corners = [(x, y) for x in (x0, x1) for y in (y0, y1)]
    xs = [cx + ox + (x - cx) * math.cos(a) + (y - cy) * math.sin(a) for x, y in corners]
    ys = [cy + oy - (x - cx) * math.sin(a) + (y - cy) * math.cos(a) for x, y in corners]
    expected = (min(xs), min(ys), max(xs), max(ys))
    assert iou(rotated.target_box, expected) > 0.85
    assert rotated.image.getpixel((0, 0)) == (255, 255, 255)
