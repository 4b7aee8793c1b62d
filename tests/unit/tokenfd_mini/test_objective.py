"""TokenFD-mini's objective on hand-made maps: the per-cell terms do not see where a token's similarity
peaks, the spatial term (v3) does; it ignores the learned bias and leaves crops without text alone."""
from __future__ import annotations

import torch

from services.models.tokenfd.mini.objective import alignment_loss, spatial_loss

GRID = 8


def _maps(peak_cells: list[tuple[int, int]], peak: float, elsewhere: float) -> torch.Tensor:
    maps = torch.full((1, GRID, GRID), elsewhere)
    for row, column in peak_cells:
        maps[0, row, column] = peak
    return maps


def test_the_spatial_term_prefers_a_peak_on_the_tokens_own_cells():
    own, neighbour = [(2, 2), (2, 3)], [(5, 2), (5, 3)]
    target = torch.zeros(1, GRID, GRID)
    for row, column in own:
        target[0, row, column] = 1.0
    positive = torch.tensor([True])
    right = spatial_loss(_maps(own, 4.0, -4.0), target, positive)
    wrong = spatial_loss(_maps(neighbour, 4.0, -4.0), target, positive)
    assert right < wrong
    # the learned bias moves every cell alike: the distribution over cells, and the term, do not change
    assert torch.allclose(spatial_loss(_maps(own, 4.0, -4.0) - 3.0, target, positive), right)


def test_no_token_in_the_crop_means_no_spatial_term():
    maps = torch.randn(3, GRID, GRID)
    assert spatial_loss(maps, torch.zeros(3, GRID, GRID), torch.zeros(3, dtype=torch.bool)) == 0


def test_the_weight_adds_the_term_and_zero_is_v2s_objective():
    maps, targets = torch.randn(2, GRID, GRID), torch.zeros(2, GRID, GRID)
    targets[0, 1, 1] = 1.0
    positive, bias = torch.tensor([True, False]), torch.tensor(-2.0)
    v2 = alignment_loss(maps, targets, positive, bias)
    v3 = alignment_loss(maps, targets, positive, bias, spatial_weight=0.5)
    assert v2["spatial"] == 0
    assert torch.allclose(v3["loss"], v2["loss"] + 0.5 * v3["spatial"])
