"""The tuning report's arithmetic: the greedy program as one more candidate, figure by figure."""
from services.evaluation.codepercept.runs import ENGINE_SEED
from services.evaluation.codepercept.tune import TUNE_SEED, with_greedy


def _record(status, fidelity):
    return {"status": status, "fidelity": {"aggregate": fidelity}}


def test_a_figure_runs_when_greedy_or_a_sample_runs_and_keeps_the_better_fidelity():
    greedy = {"a": _record("OK", 0.4), "b": _record("EXEC_ERROR", 0.0), "c": _record("OK", 0.2)}
    samples = {"a": _record("OK", 0.3), "b": _record("OK", 0.5), "c": _record("NO_CODE", 0.0)}
    assert with_greedy(greedy, samples) == {"exec_rate": 1.0, "fidelity": round((0.4 + 0.5 + 0.2) / 3, 4)}


def test_the_tuning_seed_is_not_the_evaluations():
    assert TUNE_SEED not in (0, ENGINE_SEED)   # 0 trains the model and builds the index


def test_a_tuned_configuration_is_the_evaluations_sampling_at_another_temperature():
    from services.evaluation.codepercept.runs import SAMPLING
    from services.evaluation.codepercept.tune import sampled

    args = sampled(0.3, 4).args
    assert args[:3] == ("--candidates", "4", "--no-greedy-first")   # samples alone; greedy is measured apart
    options = dict(zip(args[3::2], args[4::2], strict=True))
    assert options == dict(zip(SAMPLING[::2], SAMPLING[1::2], strict=True)) | {"--temperature": "0.3"}
