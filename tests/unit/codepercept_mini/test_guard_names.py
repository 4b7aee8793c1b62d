"""Recording the code guard's names for a trained checkpoint: the check that the guard accepts every program
the names were read from."""
from __future__ import annotations

from services.models.codepercept.guard_names import refused
from services.models.tokenvl.triton.code_guard import free_names


def test_the_check_counts_the_programs_the_guard_would_not_let_a_model_write():
    programs = ["x = [1, 2]\nprint(len(x), end='')\n", "heat = [[1, 2], [3, 4]]\n"]
    assert refused(programs, sorted(free_names(programs))) == 0
    ragged = programs + ["heat = [[1, 2], [3]]\n"]       # rows of two lengths: the shape rule refuses it
    assert refused(ragged, sorted(free_names(ragged))) == 1
    assert refused(programs, []) == 1                      # `end=` is free only with the names
