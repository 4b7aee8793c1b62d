"""InternVL dynamic tiling and map stitching (services.models.tokenfd.preprocess)."""
import numpy as np
import pytest
from PIL import Image

from services.models.tokenfd.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    candidate_grids,
    choose_grid,
    stitch_maps,
    tile_image,
)

TILE = 448


def solid(width, height, color=(255, 255, 255)):
    return Image.new("RGB", (width, height), color)


def expected_pixel(rgb):
    return (np.asarray(rgb, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD


# --- grid choice -------------------------------------------------------------------------
@pytest.mark.parametrize("size, grid", [
    ((1, 1), (1, 1)),            # tiny square: a bigger square grid ties but has no pixels to fill
    ((448, 448), (1, 1)),
    ((800, 800), (2, 2)),        # 640000 px > half of 2x2 (401408), < half of 3x3 (903168)
    ((1000, 1000), (3, 3)),      # 1e6 px > half of 3x3; 4x4 is not allowed (16 > 12)
    ((5000, 1), (12, 1)),        # extreme aspect ratios: the most elongated grid allowed
    ((1, 5000), (1, 12)),
    ((896, 448), (2, 1)),
    ((1344, 896), (3, 2)),
    ((448, 1344), (1, 3)),
])
def test_choose_grid(size, grid):
    assert choose_grid(*size) == grid


def test_exact_tie_prefers_the_larger_grid_only_for_large_images():
    # 3:2 with max 2 tiles: 1x1 (ratio 1) and 2x1 (ratio 2) are both 0.5 away
    assert choose_grid(600, 400, max_tiles=2) == (2, 1)   # 240000 px > 0.5 * 448^2 * 2
    assert choose_grid(300, 200, max_tiles=2) == (1, 1)   # 60000 px: stay at one tile


def test_max_tiles_one_always_gives_one_tile():
    for size in [(1, 1), (5000, 1), (1, 5000), (3000, 2000)]:
        assert choose_grid(*size, max_tiles=1) == (1, 1)


def test_grids_respect_the_tile_bounds():
    grids = candidate_grids(1, 12)
    assert all(1 <= c * r <= 12 for c, r in grids)
    assert len(grids) == len(set(grids)) == sum(1 for c in range(1, 13) for r in range(1, 13) if c * r <= 12)
    counts = [c * r for c, r in grids]
    assert counts == sorted(counts)
    assert all(3 <= c * r <= 6 for c, r in candidate_grids(3, 6))


@pytest.mark.parametrize("bad", [dict(min_tiles=0), dict(max_tiles=0), dict(min_tiles=3, max_tiles=2)])
def test_invalid_tile_bounds_are_refused(bad):
    with pytest.raises(ValueError):
        choose_grid(100, 100, **bad)


def test_zero_size_is_refused():
    with pytest.raises(ValueError, match="zero size"):
        choose_grid(0, 10)


# --- tiles -----------------------------------------------------------------------------
def test_one_tile_has_no_thumbnail():
    tiled = tile_image(solid(420, 380, (10, 20, 30)))
    assert tiled.grid == (1, 1) and not tiled.has_thumbnail and tiled.num_tiles == 1
    assert tiled.pixel_values.shape == (1, 3, TILE, TILE) and tiled.pixel_values.dtype == np.float32
    np.testing.assert_allclose(tiled.pixel_values[0, :, 0, 0], expected_pixel((10, 20, 30)), atol=1e-6)


def test_several_tiles_are_row_major_with_the_thumbnail_last():
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]   # TL, TR, BL, BR
    image = Image.new("RGB", (896, 896))
    for index, color in enumerate(colors):
        row, col = divmod(index, 2)
        image.paste(color, (col * 448, row * 448, (col + 1) * 448, (row + 1) * 448))
    tiled = tile_image(image)
    assert tiled.grid == (2, 2) and tiled.has_thumbnail and tiled.num_tiles == 5
    for index, color in enumerate(colors):
        np.testing.assert_allclose(tiled.pixel_values[index, :, 224, 224], expected_pixel(color), atol=1e-6)
    thumbnail = tiled.pixel_values[4]
    np.testing.assert_allclose(thumbnail[:, 10, 10], expected_pixel(colors[0]), atol=1e-6)
    np.testing.assert_allclose(thumbnail[:, 437, 437], expected_pixel(colors[3]), atol=1e-6)


@pytest.mark.parametrize("size, grid", [((1, 1), (1, 1)), ((5000, 1), (12, 1)), ((1, 5000), (1, 12))])
def test_edge_shapes_tile_without_error(size, grid):
    tiled = tile_image(solid(*size))
    cols, rows = grid
    assert tiled.grid == grid
    assert tiled.num_tiles == cols * rows + (1 if cols * rows > 1 else 0)
    assert tiled.pixel_values.shape == (tiled.num_tiles, 3, TILE, TILE)
    assert np.isfinite(tiled.pixel_values).all()


def test_max_tiles_is_applied_and_non_rgb_modes_are_converted():
    tiled = tile_image(Image.new("L", (3000, 1000), 128), max_tiles=1)
    assert tiled.grid == (1, 1) and tiled.num_tiles == 1 and not tiled.has_thumbnail
    rgba = tile_image(Image.new("RGBA", (2000, 500), (1, 2, 3, 0)), max_tiles=4)
    assert rgba.grid == (4, 1) and rgba.num_tiles == 5


# --- stitching ---------------------------------------------------------------------------
def labelled_maps(n, tokens=2, side=4):
    """Each tile's map is filled with its tile index, token t adds 100*t."""
    maps = np.zeros((n, tokens, side, side), dtype=np.float32)
    for i in range(n):
        for t in range(tokens):
            maps[i, t] = i + 100 * t
    return maps


def test_stitch_places_tiles_row_major_and_drops_the_thumbnail():
    maps = labelled_maps(3 * 2 + 1)
    stitched = stitch_maps(maps, (3, 2), has_thumbnail=True)
    assert stitched.shape == (2, 2 * 4, 3 * 4)
    blocks = stitched[0, ::4, ::4]
    np.testing.assert_array_equal(blocks, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(stitched[1, ::4, ::4], blocks + 100)
    assert 6 not in stitched  # the thumbnail's map


def test_a_single_tile_is_kept():
    """The upstream bug dropped the last map unconditionally: a one-tile image lost its only tile."""
    maps = np.random.default_rng(0).standard_normal((1, 3, 128, 128)).astype(np.float32)
    stitched = stitch_maps(maps, (1, 1), has_thumbnail=False)
    assert stitched.shape == (3, 128, 128)
    np.testing.assert_array_equal(stitched, maps[0])


def test_stitching_the_real_tile_layout():
    tiled = tile_image(solid(1344, 448))
    maps = labelled_maps(tiled.num_tiles, tokens=1, side=128)
    stitched = stitch_maps(maps, tiled.grid, tiled.has_thumbnail)
    assert stitched.shape == (1, 128, 3 * 128)
    np.testing.assert_array_equal(stitched[0, 0, ::128], [0, 1, 2])


@pytest.mark.parametrize("n, thumbnail", [(6, True), (7, False), (5, False)])
def test_stitch_refuses_a_wrong_tile_count(n, thumbnail):
    with pytest.raises(ValueError, match="tile maps"):
        stitch_maps(labelled_maps(n), (3, 2), has_thumbnail=thumbnail)


def test_stitch_refuses_a_wrong_rank():
    with pytest.raises(ValueError, match="shape"):
        stitch_maps(np.zeros((1, 4, 4)), (1, 1), has_thumbnail=False)
