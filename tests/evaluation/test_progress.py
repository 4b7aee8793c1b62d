"""Progress: a tqdm bar on a terminal, plain periodic lines otherwise."""
import io

from services.evaluation.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_bar():
    stream = Terminal()
    progress = Progress(total=4, done=1, stream=stream)
    for status in ("OK", "OK", "EXEC_ERROR"):
        progress.advance(status)
    progress.close()
    text = stream.getvalue()
    assert "4/4" in text and "\r" in text and "EXEC_ERROR=1" in text and "percept-eval progress" not in text


def test_a_pipe_gets_plain_lines_at_the_interval_and_at_the_end():
    stream = io.StringIO()
    progress = Progress(total=3, done=1, interval_s=3600, stream=stream)
    progress.advance("OK")
    progress.advance("NO_CODE")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("percept-eval resuming: 1/3 samples")
    assert len(lines) == 2 and lines[1].startswith("percept-eval progress: 3/3 samples")
    assert lines[1].endswith("NO_CODE=1 OK=1") and "\r" not in stream.getvalue()
