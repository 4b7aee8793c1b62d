"""SharedResults: one computation per key, even for requests that arrive together; failures not kept."""
import threading
import time

import numpy as np
import pytest

from services.triton.shared_results import SharedResults, digest


def test_a_kept_result_is_not_computed_again():
    shared = SharedResults(2)
    assert shared.get("a", lambda: 1) == 1
    assert shared.get("a", lambda: 2) == 1
    assert shared.computed == 1


def test_concurrent_requests_for_one_key_share_one_flight():
    shared, started, results = SharedResults(0), threading.Barrier(4), []

    def slow():
        time.sleep(0.2)   # long enough for the other three to find the flight
        return object()

    def request():
        started.wait()
        results.append(shared.get("image", slow))

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared.computed == 1
    assert len({id(r) for r in results}) == 1
    assert shared.get("image", object) is not results[0]   # capacity 0: nothing kept after the flight


def test_the_least_recently_used_is_dropped_at_capacity():
    shared = SharedResults(2)
    for key in ("a", "b"):
        shared.get(key, lambda key=key: key)
    shared.get("a", lambda: "again")    # a is now the most recent
    shared.get("c", lambda: "c")        # drops b
    assert shared.get("a", lambda: "recomputed") == "a"
    assert shared.get("b", lambda: "recomputed") == "recomputed"


def test_a_failure_reaches_every_waiter_and_is_not_kept():
    shared, started, errors = SharedResults(4), threading.Barrier(3), []

    def failing():
        time.sleep(0.2)
        raise RuntimeError("vision model unavailable")

    def request():
        started.wait()
        try:
            shared.get("k", failing)
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == ["vision model unavailable"] * 3
    assert shared.get("k", lambda: "fine") == "fine"


def test_the_digest_tells_shape_dtype_and_content_apart():
    a = np.zeros((2, 3), np.float32)
    keys = {digest(a), digest(a.reshape(3, 2)), digest(a.astype(np.float64)), digest(a + 1),
            digest(a, b"x"), digest(a, "x", "y"), digest(a, "xy")}
    assert len(keys) == 7
    assert digest(a) == digest(a.copy())


def test_a_negative_capacity_is_refused():
    with pytest.raises(ValueError):
        SharedResults(-1)
