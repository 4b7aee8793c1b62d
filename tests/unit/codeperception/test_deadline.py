"""The call's deadline bounds the sandbox render's own wall-clock limit."""
import pytest

from services.codeperception.deadline import Deadline
from services.codeperception.protos import sandbox_pb2
from services.codeperception.sandbox import bounded
from services.common.errors import ErrorCode, PerceptError


def _request(timeout_s: float) -> sandbox_pb2.RenderRequest:
    return sandbox_pb2.RenderRequest(code="x = 1", options=sandbox_pb2.RenderOptions(dpi=72, timeout_seconds=timeout_s))


def test_a_render_limit_longer_than_the_time_left_is_cut_to_it():
    request = _request(30)
    cut = bounded(request, Deadline.after(2.0), default_timeout_s=30)
    assert 1.5 < cut.options.timeout_seconds <= 2.0 and cut.options.dpi == 72 and cut.code == "x = 1"
    assert request.options.timeout_seconds == 30  # the caller's message is not changed


def test_the_servers_default_limit_counts_when_the_request_sets_none():
    assert bounded(_request(0), Deadline.after(100), default_timeout_s=30).options.timeout_seconds == 0
    assert bounded(_request(0), Deadline.after(5), default_timeout_s=30).options.timeout_seconds <= 5


def test_no_time_left_is_deadline_exceeded():
    with pytest.raises(PerceptError) as caught:
        bounded(_request(30), Deadline.after(-1), default_timeout_s=30)
    assert caught.value.code is ErrorCode.DEADLINE_EXCEEDED


def test_the_callers_deadline_or_the_servers_default():
    assert 9 < Deadline.of_call(None, 10).remaining() <= 10
    assert 2 < Deadline.of_call(3, 10).remaining() <= 3
    assert 9 < Deadline.of_call(50, 10).remaining() <= 10
