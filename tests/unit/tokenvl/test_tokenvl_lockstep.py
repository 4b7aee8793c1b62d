"""Requests for one prompt decode as the rows of one batch (lockstep.py), each exactly as it would
alone: rows stop at their own steps and the others go on, a row that leaves before its first step
holds no one up, and a failed pass reaches every row (the tiny exported fixture, in ONNX Runtime)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from services.models.tokenvl.triton.decoder import Decoder

CAPACITY = 64


@pytest.fixture(scope="module")
def export(tokenfd_artifacts):
    return tokenfd_artifacts.tokenvl_export


def _prompt(decoder: Decoder, first: int = 5) -> np.ndarray:
    return decoder.embed(list(range(first, first + 30)), None, -1)


def _alone(decoder: Decoder, embeds: np.ndarray, tokens: list[int]) -> np.ndarray:
    """The logits of a request decoding `tokens` in a cache of its own (no lockstep)."""
    logits, cache = decoder.prefill(embeds, capacity=CAPACITY)
    trace = [logits]
    for token in tokens:
        trace.append(decoder.step(token, cache))
    return np.stack(trace)


def _together(decoder: Decoder, embeds: np.ndarray, scripts: list[list[int]], *, leave_first: int | None = None):
    """Each script a request in its own thread; the prefill waits until every request has joined, so
    they form one lockstep. Returns each request's logits trace and the lockstep's row count."""
    joined = threading.Semaphore(0)
    traces: list = [None] * len(scripts)
    rows: list[int] = []
    real = decoder._prefill_rows

    def slow_prefill(e):
        for _ in scripts[1:]:
            joined.acquire(timeout=10)
        time.sleep(0.2)   # the last ones' join calls land
        return real(e)

    decoder._prefill_rows = slow_prefill

    def request(index: int) -> None:
        try:
            if index:
                joined.release()
            seat = decoder.join(embeds, CAPACITY)
            rows.append(seat.lockstep.rows)
            try:
                trace = [seat.first_logits]
                if index == leave_first:
                    traces[index] = np.stack(trace)
                    return
                for token in scripts[index]:
                    trace.append(seat.step(token))
                traces[index] = np.stack(trace)
            finally:
                seat.leave()
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            traces[index] = exc

    threads = [threading.Thread(target=request, args=(i,)) for i in range(len(scripts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    decoder._prefill_rows = real
    assert not any(thread.is_alive() for thread in threads), "a row is stuck waiting"
    return traces, rows


def test_rows_decode_as_they_would_alone_and_stop_at_their_own_steps(export):
    decoder = Decoder.from_directory(export, intra_op_threads=1)
    embeds = _prompt(decoder)
    rng = np.random.default_rng(0)
    scripts = [rng.integers(10, decoder.vocab_size, size).tolist() for size in (2, 9, 5, 12)]
    passes: list[int] = []
    decoder.on_pass = passes.append          # the metrics' hook: each pass's rows still decoding
    traces, rows = _together(decoder, embeds, scripts)
    assert rows == [4, 4, 4, 4]              # one batch of all four
    assert passes == [4, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1]   # rows leave after 2, 5 and 9 steps
    assert decoder.prefixes.computed == 1
    for script, trace in zip(scripts, traces, strict=True):
        assert not isinstance(trace, BaseException), trace
        np.testing.assert_allclose(trace, _alone(decoder, embeds, script), rtol=1e-4, atol=1e-4)


def test_a_row_that_leaves_before_its_first_step_holds_no_one_up(export):
    decoder = Decoder.from_directory(export, intra_op_threads=1)
    embeds = _prompt(decoder, first=7)
    scripts = [[11, 12, 13], [21, 22, 23, 24], [31, 32]]
    traces, rows = _together(decoder, embeds, scripts, leave_first=1)
    assert rows == [3, 3, 3]
    assert traces[1].shape[0] == 1
    for index in (0, 2):
        np.testing.assert_allclose(traces[index], _alone(decoder, embeds, scripts[index]), rtol=1e-4, atol=1e-4)


def test_a_request_after_the_prefill_decodes_on_its_own(export):
    decoder = Decoder.from_directory(export, intra_op_threads=1)
    embeds = _prompt(decoder, first=9)
    first, second = decoder.join(embeds, CAPACITY), decoder.join(embeds, CAPACITY)
    assert first.lockstep is not second.lockstep and first.lockstep.rows == second.lockstep.rows == 1
    assert decoder.prefixes.computed == 1     # the prefill is still shared
    np.testing.assert_array_equal(first.step(42), second.step(42))
    first.leave()
    second.leave()


def test_a_failed_pass_reaches_every_row(export):
    decoder = Decoder.from_directory(export, intra_op_threads=1)
    embeds = _prompt(decoder, first=11)

    real = decoder.forward_rows

    def broken(embeds, cache):   # the prefill (one row) runs; the batch's first step fails
        if embeds.shape[0] > 1:
            raise RuntimeError("onnxruntime failed")
        return real(embeds, cache)

    decoder.forward_rows = broken
    traces, rows = _together(decoder, embeds, [[1, 2], [3, 4]])
    assert rows == [2, 2]
    assert all(isinstance(trace, RuntimeError) and "forward pass failed" in str(trace) for trace in traces)
