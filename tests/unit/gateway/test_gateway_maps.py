import base64
import io

import numpy as np
from PIL import Image

from gateway import maps


def test_minmax_normalise_spans_unit_interval_and_flat_map_is_zero():
    grid = np.array([[0.1, 0.3], [0.2, 0.5]], dtype=np.float32)
    norm = maps.minmax_normalise(grid)
    assert norm.min() == 0.0 and norm.max() == 1.0
    assert not maps.minmax_normalise(np.full((4, 4), 0.7)).any()


def test_colormap_is_ordered_dark_to_bright():
    brightness = maps.COLORMAP.astype(float).sum(axis=1)
    assert maps.COLORMAP.shape == (256, 3)
    assert brightness[0] < brightness[128] < brightness[255]


def test_heatmap_png_has_requested_size():
    size = maps.heatmap_size((3000, 1500), max_side=1024)
    assert size == (1024, 512)
    png = base64.b64decode(maps.heatmap_png_base64(np.random.default_rng(0).random((128, 256)), size))
    assert Image.open(io.BytesIO(png)).size == (1024, 512)
    assert maps.heatmap_size((200, 100), max_side=1024) == (200, 100)


def test_boxes_map_grid_cells_to_image_pixels():
    grid = np.zeros((128, 256), dtype=np.float32)
    grid[10:20, 30:40] = 0.9   # one region
    grid[100:101, 200:210] = 0.5  # another, weaker
    boxes = maps.boxes_above(grid, 0.2, (1024, 512), max_boxes=10)
    assert len(boxes) == 2
    best = boxes[0]
    assert best.score == np.float32(0.9)
    # 256 cells across 1024 px -> 4 px per cell; 128 cells down 512 px -> 4 px per cell
    assert (best.x0, best.y0, best.x1, best.y1) == (120.0, 40.0, 160.0, 80.0)
    assert boxes[1].score < best.score
    assert maps.boxes_above(grid, 0.95, (1024, 512), max_boxes=10) == []
    assert len(maps.boxes_above(grid, 0.2, (1024, 512), max_boxes=1)) == 1


def test_heatmap_png_is_a_palette_image_of_the_colour_ramp():
    grid = np.linspace(0.0, 1.0, 64 * 64, dtype=np.float32).reshape(64, 64)
    picture = Image.open(io.BytesIO(maps.heatmap_png(grid, (64, 64))))
    assert picture.mode == "P"  # one byte per pixel: the cheap encoding
    rgb = np.asarray(picture.convert("RGB"))
    assert tuple(rgb[0, 0]) == tuple(maps.COLORMAP[0]) and tuple(rgb[-1, -1]) == tuple(maps.COLORMAP[255])


def test_components_are_every_region_and_boxes_the_best_of_them():
    grid = np.zeros((32, 32), dtype=np.float32)
    for row, peak in enumerate((0.3, 0.9, 0.5)):
        grid[row * 8:row * 8 + 2, 4:8] = peak
    regions = maps.components(grid, 0.2, (32, 32))
    assert [region.score for region in regions] == [np.float32(0.9), np.float32(0.5), np.float32(0.3)]
    assert maps.boxes_above(grid, 0.2, (32, 32), max_boxes=2) == regions[:2]
