"""Best-of-N choice: rendered beats not rendered, higher aggregate wins, ties to the lowest index."""
from services.codeperception.selection import choose_best


def test_highest_aggregate_wins():
    assert choose_best([0.2, 0.9, 0.5]) == 1


def test_a_candidate_that_did_not_render_never_wins():
    assert choose_best([None, 0.0, None]) == 1
    assert choose_best([None, None, 0.01]) == 2


def test_ties_go_to_the_lowest_index():
    assert choose_best([0.5, 0.8, 0.8, 0.8]) == 1


def test_nothing_rendered_is_the_first():
    assert choose_best([None, None]) == 0
