"""TokenFD-mini's objective on hand-made maps: the per-cell terms do not see where a token's similarity
peaks, the spatial term (v3) does; it ignores the learned bias and leaves crops without text alone. The
vocabulary term wants a text cell's own piece to be the most similar of the whole vocabulary, and the presence
term (v8) asks of each piece's few best cells whether it is drawn in the crop at all."""
from __future__ import annotations

import torch

from services.models.tokenfd.mini.objective import (
    VOCABULARY_CELLS,
    alignment_loss,
    presence_loss,
    spatial_loss,
    vocabulary_loss,
)

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


def _vocabulary_case(cells: int):
    """A crop of `cells` cells, the first two owned by drawn piece 3 of a 6-piece vocabulary (piece 5 is
    absent), with one-hot embeddings."""
    table = torch.eye(6)
    ids, positive = torch.tensor([3, 5]), torch.tensor([True, False])
    targets = torch.zeros(2, cells)
    targets[0, :2] = 1.0
    return table, ids, targets, positive


def test_the_vocabulary_term_wants_the_drawn_piece_most_similar_of_all():
    table, ids, targets, positive = _vocabulary_case(16)
    generator, t_prime = torch.Generator().manual_seed(0), torch.tensor(2.0)
    own = torch.zeros(16, 6)
    own[:, 3] = 1.0                   # every cell looks like piece 3
    other = torch.zeros(16, 6)
    other[:, 1] = 1.0                 # every cell looks like piece 1, which is not even in the crop
    right = vocabulary_loss(own, table, ids, targets.view(2, 4, 4), positive, t_prime, generator)
    wrong = vocabulary_loss(other, table, ids, targets.view(2, 4, 4), positive, t_prime, generator)
    assert right < wrong


def test_no_owned_cell_means_no_vocabulary_term_and_a_crop_past_the_sample_is_scored():
    table, ids, targets, positive = _vocabulary_case(16)
    generator, t_prime = torch.Generator().manual_seed(0), torch.tensor(2.0)
    features = torch.randn(16, 6)
    assert vocabulary_loss(features, table, ids, torch.zeros(2, 4, 4), positive, t_prime, generator) == 0
    assert vocabulary_loss(features, table, ids, targets.view(2, 4, 4), ~positive, t_prime, generator) == 0
    side = 2 * int(VOCABULARY_CELLS ** 0.5) + 2        # more owned cells than a step scores
    owned = torch.ones(2, side, side)
    owned[1] = 0.0
    loss = vocabulary_loss(torch.randn(side * side, 6), table, ids, owned, positive, t_prime, generator)
    assert torch.isfinite(loss) and loss > 0


def test_the_presence_term_sees_a_few_stray_cells_of_an_absent_piece_that_the_per_cell_terms_average_away():
    positive = torch.tensor([False])
    targets = torch.zeros(1, GRID, GRID)
    quiet = _maps([], 0.0, -6.0)
    stray = _maps([(1, 1), (1, 2), (6, 4), (6, 5)] + [(3, c) for c in range(4)], 4.0, -6.0)   # 8 high cells
    assert presence_loss(stray, positive) > 10 * presence_loss(quiet, positive)
    # per-cell BCE, averaged over the 64 cells, moves far less
    bias = torch.tensor(0.0)
    per_cell = (alignment_loss(stray, targets, positive, bias)["bce"]
                - alignment_loss(quiet, targets, positive, bias)["bce"])
    assert presence_loss(stray, positive) - presence_loss(quiet, positive) > 5 * per_cell
    # a drawn piece is wanted high on its few best cells, wherever they are
    drawn = torch.tensor([True])
    assert presence_loss(stray, drawn) < presence_loss(quiet, drawn)
