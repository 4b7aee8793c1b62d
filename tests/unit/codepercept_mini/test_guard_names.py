"""Recording the code guard's names for a trained checkpoint: the check that the guard accepts every program
the names were read from."""
from __future__ import annotations

from services.models.codepercept.guard_names import guard_entry, refused


def test_the_entry_counts_the_programs_the_guard_would_not_let_a_model_write():
    programs = ["x = [1, 2]\nprint(len(x), end='')\n", "heat = [[1, 2], [3, 4]]\n"]
    assert guard_entry(programs) == {"free_names": ["end="], "refused_programs": 0}
    ragged = programs + ["heat = [[1, 2], [3]]\n"]       # rows of two lengths: the shape rule refuses it
    assert guard_entry(ragged)["refused_programs"] == 1
    assert refused(programs, []) == 1                      # `end=` is free only with the names
