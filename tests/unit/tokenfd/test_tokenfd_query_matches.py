"""The one whole-query decoder on raw maps (services/models/tokenfd/query_matches.py), as TokenFD-mini's
evaluation calls it: (T, G, G) cosine maps of a tile, square cells, boxes in the tile's pixels."""
import numpy as np
import pytest

from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.query_matches import Match, Region, chain, iou, match_query, regions

CELL = TILE_SIZE / FEATURE_GRID   # 3.5 px per cell of one tile's map


def tile_maps(*blobs_per_token, dtype=np.float32):
    maps = np.full((len(blobs_per_token), FEATURE_GRID, FEATURE_GRID), -0.1, dtype=dtype)
    for token, blobs in enumerate(blobs_per_token):
        for row0, row1, col0, col1, peak in blobs:
            maps[token, row0:row1, col0:col1] = peak
    return maps


def test_a_word_of_two_pieces_is_one_box_in_tile_pixels():
    maps = tile_maps([(40, 46, 10, 20, 0.9)], [(40, 46, 20, 26, 0.7)])
    (match,) = match_query(maps, 0.2, CELL, max_matches=10)
    assert isinstance(match, Match)
    assert match.box == pytest.approx((10 * CELL, 40 * CELL, 26 * CELL, 46 * CELL))
    assert match.score == pytest.approx(0.8) and match.tokens == (0, 1)


def test_the_best_match_alone_and_none_when_a_piece_is_nowhere():
    maps = tile_maps([(40, 46, 10, 20, 0.5), (80, 86, 50, 60, 0.9)], [(40, 46, 20, 26, 0.5), (80, 86, 60, 66, 0.9)])
    (best,) = match_query(maps, 0.2, CELL, max_matches=1)
    assert best.box[:2] == pytest.approx((50 * CELL, 80 * CELL)) and best.score == pytest.approx(0.9)
    assert len(match_query(maps, 0.2, CELL, max_matches=10)) == 2
    # the second piece only on another line: no match, though each piece is found
    assert match_query(tile_maps([(40, 46, 10, 20, 0.9)], [(60, 66, 20, 26, 0.9)]), 0.2, CELL, max_matches=1) == []
    assert match_query(tile_maps([(40, 46, 10, 20, 0.9)], []), 0.2, CELL, max_matches=1) == []


def test_half_precision_maps_and_non_square_cells():
    maps = tile_maps([(4, 6, 2, 4, 0.9)], [(4, 6, 4, 6, 0.5)], dtype=np.float16)
    (match,) = match_query(maps, 0.2, (2.0, 10.0), max_matches=1)
    assert match.box == (4.0, 40.0, 12.0, 60.0)
    assert isinstance(match.score, float) and match.score == pytest.approx(0.7, abs=1e-3)


def test_regions_are_the_components_best_first_and_chain_takes_them():
    grid = np.zeros((16, 16), dtype=np.float32)
    grid[2:4, 2:6], grid[10:12, 2:6] = 0.4, 0.8
    found = regions(grid, 0.2, 2.0)
    assert all(isinstance(region, Region) for region in found)
    assert [(r.x0, r.y0, r.x1, r.y1) for r in found] == [(4.0, 20.0, 12.0, 24.0), (4.0, 4.0, 12.0, 8.0)]
    assert [r.score for r in found] == pytest.approx([0.8, 0.4])
    assert [m.box for m in chain([found], max_matches=5)] == [(4.0, 20.0, 12.0, 24.0), (4.0, 4.0, 12.0, 8.0)]
    assert regions(grid, 0.9, 2.0) == []


def test_maps_must_be_tokens_by_rows_by_cols():
    with pytest.raises(ValueError, match="tokens, rows, cols"):
        match_query(np.zeros((16, 16)), 0.2, CELL, max_matches=1)


def test_iou_of_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == 50 / 150
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
