"""Whole-query matches on synthetic similarity maps, as the locate route finds them: each token's regions
(gateway/maps.py, in image pixels) chained along a text line by the one decoder
(services/models/tokenfd/query_matches.py)."""
import numpy as np
import pytest

from gateway import maps
from services.models.tokenfd.query_matches import chain, match_query

GRID = (64, 128)          # rows x cols of the stitched similarity grid
IMAGE = (1024, 512)       # width x height in pixels: 8 px per cell both ways
THRESHOLD = 0.2


def token_maps(*blobs_per_token):
    """One map per token; each blob is (row0, row1, col0, col1, peak) drawn on a faint background."""
    grids = []
    for blobs in blobs_per_token:
        grid = np.full(GRID, 0.05, dtype=np.float32)
        for row0, row1, col0, col1, peak in blobs:
            grid[row0:row1, col0:col1] = peak
        grids.append(grid)
    return grids


def matches_of(grids, threshold=THRESHOLD, max_matches=10):
    regions = [maps.components(grid, threshold, IMAGE) for grid in grids]
    return chain(regions, max_matches=max_matches)


def test_a_two_token_word_drawn_left_to_right_is_one_match_covering_both():
    found = matches_of(token_maps([(10, 14, 20, 30, 0.8)], [(10, 14, 30, 38, 0.6)]))
    assert len(found) == 1
    match = found[0]
    assert (match.x0, match.y0, match.x1, match.y1) == (160.0, 80.0, 304.0, 112.0)
    assert match.score == pytest.approx(0.7)
    assert match.tokens == (0, 1)


def test_a_small_gap_between_words_still_chains():
    # "Total amount": a space of two cells (16 px) on a 32 px line
    assert len(matches_of(token_maps([(10, 14, 20, 30, 0.8)], [(10, 14, 32, 40, 0.6)]))) == 1


def test_the_same_tokens_in_the_wrong_order_are_no_match():
    assert matches_of(token_maps([(10, 14, 30, 38, 0.8)], [(10, 14, 20, 30, 0.6)])) == []


def test_the_same_tokens_on_different_lines_are_no_match():
    assert matches_of(token_maps([(10, 14, 20, 30, 0.8)], [(20, 24, 30, 38, 0.6)])) == []


def test_the_next_token_far_along_the_line_is_no_match():
    assert matches_of(token_maps([(10, 14, 20, 30, 0.8)], [(10, 14, 60, 68, 0.6)])) == []


def test_two_occurrences_give_two_matches_best_first():
    found = matches_of(token_maps([(10, 14, 20, 30, 0.5), (40, 44, 70, 80, 0.9)],
                                  [(10, 14, 30, 38, 0.5), (40, 44, 80, 88, 0.7)]))
    assert [m.score for m in found] == pytest.approx([0.8, 0.5])
    assert (found[0].x0, found[0].y0) == (560.0, 320.0)
    assert (found[1].x0, found[1].y0) == (160.0, 80.0)
    assert len(matches_of(token_maps([(10, 14, 20, 30, 0.5), (40, 44, 70, 80, 0.9)],
                                     [(10, 14, 30, 38, 0.5), (40, 44, 80, 88, 0.7)]), max_matches=1)) == 1


def test_a_region_serves_one_match_only():
    # one first token, two candidates for the second right of it: one match, through the stronger one
    found = matches_of(token_maps([(10, 14, 20, 30, 0.8)], [(10, 14, 30, 33, 0.4), (10, 14, 34, 40, 0.6)]))
    assert len(found) == 1 and found[0].score == pytest.approx(0.7) and found[0].x1 == 320.0


def test_three_tokens_chain_in_order():
    found = matches_of(token_maps([(10, 14, 20, 26, 0.6)], [(10, 14, 26, 32, 0.6)], [(10, 14, 32, 38, 0.9)]))
    assert len(found) == 1 and found[0].tokens == (0, 1, 2) and found[0].score == pytest.approx(0.7)
    # a middle token missing from the line breaks the chain
    assert matches_of(token_maps([(10, 14, 20, 26, 0.6)], [(30, 34, 26, 32, 0.6)], [(10, 14, 32, 38, 0.9)])) == []


def test_a_single_token_query_matches_its_regions():
    found = matches_of(token_maps([(10, 14, 20, 30, 0.8), (40, 44, 20, 30, 0.3)]))
    assert [(m.score, m.tokens) for m in found] == [(pytest.approx(0.8), (0,)), (pytest.approx(0.3), (0,))]


def test_nothing_above_the_threshold_gives_no_match():
    grids = token_maps([(10, 14, 20, 30, 0.15)], [(10, 14, 30, 38, 0.15)])
    assert matches_of(grids) == []
    assert len(matches_of(grids, threshold=0.1)) == 1  # the request's threshold decides
    assert matches_of(token_maps([(10, 14, 20, 30, 0.8)], [])) == []  # a token found nowhere
    assert matches_of(token_maps([(10, 14, 20, 30, 0.8)]), max_matches=0) == []


def test_the_route_s_regions_and_the_raw_maps_entry_point_decode_alike():
    """The gateway's path (maps.components per token, then chain) is match_query on the stacked maps."""
    grids = token_maps([(10, 14, 20, 30, 0.5), (40, 44, 70, 80, 0.9)], [(10, 14, 30, 38, 0.5), (40, 44, 80, 88, 0.7)])
    cell = (IMAGE[0] / GRID[1], IMAGE[1] / GRID[0])
    assert matches_of(grids) == match_query(np.stack(grids), THRESHOLD, cell, max_matches=10)
