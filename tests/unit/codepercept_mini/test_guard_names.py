"""Recording the code guard's rules for a trained checkpoint: the check that the guard accepts every program
the rules were read from."""
from __future__ import annotations

from services.models.codepercept.guard_names import guard_entry, refused
from services.models.tokenvl.triton.code_guard import MIN_RELATION_SUPPORT, GuardRules


def test_the_entry_counts_the_programs_the_guard_would_not_let_a_model_write():
    programs = ["x = [1, 2]\nprint(len(x), end='')\n", "heat = [[1, 2], [3, 4]]\n"]
    assert guard_entry(programs) == {"free_names": ["end="], "parallel": [], "refused_programs": 0}
    ragged = programs + ["heat = [[1, 2], [3]]\n"]       # rows of two lengths: the shape rule refuses it
    assert guard_entry(ragged)["refused_programs"] == 1
    assert refused(programs, GuardRules()) == 1           # `end=` is free only with the names


def test_the_entry_records_the_parallel_lists_the_programs_keep():
    programs = [f"names = {['n'] * n}\nvalues = {list(range(n))}\n" for n in range(2, 2 + MIN_RELATION_SUPPORT)]
    entry = guard_entry(programs)
    assert entry["parallel"] == [["names", "items", "values", "items"]] and entry["refused_programs"] == 0
    assert GuardRules.from_entry(entry).parallel == (("names", "items", "values", "items"),)
