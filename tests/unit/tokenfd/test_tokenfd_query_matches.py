"""The one whole-query decoder on raw maps (services/models/tokenfd/query_matches.py), as TokenFD-mini's
evaluation calls it: (T, G, G) cosine maps of a tile, square cells, boxes in the tile's pixels."""
import numpy as np
import pytest

from services.models.tokenfd.box_geometry import iou
from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.query_matches import (
    MASS,
    PEAK,
    UPSTREAM,
    Decoding,
    Match,
    Region,
    chain,
    match_query,
    regions,
)

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


# --- a model's decoding (recorded with a checkpoint trained here) -------------------------------
def test_a_peak_share_draws_the_extent_around_the_map_s_strongest_place():
    grid = np.full((16, 16), -0.1, dtype=np.float32)
    grid[4:8, 0:16] = 0.3          # similarity spread over the whole line ...
    grid[4:8, 6:10] = 0.8          # ... around the word
    (line,) = regions(grid, 0.2, 2.0)
    assert (line.x0, line.x1) == (0.0, 32.0)
    (word,) = regions(grid, 0.2, 2.0, Decoding(peak_share=0.5))
    assert (word.x0, word.y0, word.x1, word.y1) == (12.0, 8.0, 20.0, 16.0) and word.score == pytest.approx(0.8)
    # the threshold still decides whether a region is there: the share draws only its extent
    assert regions(grid, 0.85, 2.0, Decoding(peak_share=0.5)) == []
    grid[12:14, 0:4] = 0.45         # above the share's cut, under the threshold: not a region
    assert [r.score for r in regions(grid, 0.5, 2.0, Decoding(peak_share=0.5))] == pytest.approx([0.8])
    (wide,) = regions(grid, 0.5, 2.0, Decoding(peak_share=0.3))   # a lower share: the line again
    assert (wide.x0, wide.x1) == (0.0, 32.0)


def test_ranking_by_mass_prefers_a_whole_word_to_one_sharp_cell():
    grid = np.zeros((16, 16), dtype=np.float32)
    grid[2, 2] = 0.9                # one sharp cell
    grid[10:12, 2:10] = 0.6         # a word's worth of cells
    by_peak, by_mass = regions(grid, 0.2, 1.0), regions(grid, 0.2, 1.0, Decoding(rank=MASS))
    assert [r.score for r in by_peak] == pytest.approx([0.9, 0.6])
    assert [r.score for r in by_mass] == pytest.approx([0.6, 0.9])
    assert [r.mass for r in by_mass] == pytest.approx([16 * 0.4, 0.7])
    (best,) = match_query(grid[None], 0.2, 1.0, max_matches=1, decoding=Decoding(rank=MASS))
    assert best.box == (2.0, 10.0, 10.0, 12.0) and best.score == pytest.approx(0.6)
    assert best.mass == pytest.approx(6.4)


@pytest.mark.parametrize("decoding", [UPSTREAM, Decoding(peak_share=0.6, rank=MASS)])
def test_an_empty_or_unanswering_map_has_no_region(decoding):
    assert regions(np.zeros((0, 0), dtype=np.float32), 0.2, 1.0, decoding) == []
    assert regions(np.full((8, 8), np.nan, dtype=np.float32), 0.2, 1.0, decoding) == []
    assert regions(np.full((8, 8), 0.1, dtype=np.float32), 0.2, 1.0, decoding) == []


def test_upstream_s_reading_is_the_default_and_a_decoding_reads_back():
    assert UPSTREAM == Decoding(peak_share=0.0, rank=PEAK)
    decoding = Decoding(peak_share=0.6, rank=MASS)
    assert Decoding.from_json(decoding.to_json()) == decoding


@pytest.mark.parametrize("data", [{"peak_share": 1.0}, {"peak_share": -0.1}, {"peak_share": "0.5"},
                                  {"peak_share": True}, {"rank": "area"}, {"cut": 0.5}, [0.5, "mass"]])
def test_a_bad_decoding_is_refused(data):
    with pytest.raises(ValueError):
        Decoding.from_json(data)


@pytest.mark.parametrize("decoding", [UPSTREAM, Decoding(peak_share=0.6, rank=MASS)])
def test_each_region_s_peak_and_mass_are_its_own_cells(decoding):
    from scipy import ndimage

    grid = np.random.default_rng(7).normal(0.1, 0.2, (64, 48)).astype(np.float32)
    cut = decoding.cut(grid, 0.2)
    labels, count = ndimage.label(grid > cut)
    index = np.arange(1, count + 1)
    peaks, masses = ndimage.maximum(grid, labels, index), ndimage.sum(grid - cut, labels, index)
    expected = {(cols.start * 2.0, rows.start * 3.0, cols.stop * 2.0, rows.stop * 3.0): (peak, mass)
                for (rows, cols), peak, mass in zip(ndimage.find_objects(labels), peaks, masses, strict=True)}
    found = regions(grid, 0.2, (2.0, 3.0), decoding)
    assert found and len(found) == sum(peak > 0.2 for peak, _ in expected.values())
    for region in found:
        peak, mass = expected[(region.x0, region.y0, region.x1, region.y1)]
        assert region.score == peak and region.mass == pytest.approx(mass, rel=1e-12)
