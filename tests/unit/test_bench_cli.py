"""tests/bench/cli.py: the checks every benchmark's command line shares."""
import pytest

from tests.bench.cli import MIN_REPEATS, bench_parser, measured_on, parse_checked


def test_too_few_repeats_are_refused(capsys):
    with pytest.raises(SystemExit):
        parse_checked(bench_parser("A bench."), ["--repeats", str(MIN_REPEATS - 1)])
    assert "at least 3" in capsys.readouterr().err


@pytest.mark.parametrize("docs_flag", ["--update-docs", "--write-docs"])
def test_a_quick_run_is_never_written_into_the_docs(capsys, docs_flag):
    parser = bench_parser("A bench.", quick="2 figures", docs_flag=docs_flag)
    assert parse_checked(parser, ["--quick"]).quick
    with pytest.raises(SystemExit):
        parse_checked(parser, ["--quick", docs_flag])
    assert "not written into the docs" in capsys.readouterr().err


def test_the_stamp_names_the_machine():
    import os
    import platform

    stamp = measured_on()
    assert stamp.startswith("Measured 20") and f"{os.cpu_count()} cores" in stamp
    assert platform.python_version() in stamp
