"""One render, all of its processes and threads together, stays within the memory cap.

RLIMIT_AS is per process; the cap holds for the render because the render is one
process (seccomp refuses fork, vfork and clone without CLONE_THREAD). The host's
MemAvailable is sampled while a program tries to start children that each touch
half the cap: without the refusal they would hold several times the cap.
"""
from __future__ import annotations

import textwrap

import pytest

from percept_sandbox.config import SandboxConfig
from percept_sandbox.pool import SandboxPool
from percept_sandbox.render.results import RenderOptions, Status

from .host_probes import MIB, Sampler, baseline_mem_available, mem_available_bytes

CAP_MB = 1024  # the libraries map ~350 MiB of it already
CHILDREN = 4
TOUCH_MB = CAP_MB // 2
MARGIN_MB = 256  # other activity on the host while the render runs

GREEDY_PARENT = textwrap.dedent(f"""
    import ctypes, os, time
    libc = ctypes.CDLL(None, use_errno=True)  # no interpreter checks in the way: the kernel decides
    def touch(megabytes):
        data = bytearray(megabytes << 20)
        for i in range(0, len(data), 4096):
            data[i] = 1
        return data
    refused = []
    for _ in range({CHILDREN}):
        pid = libc.fork()
        if pid == 0:
            kept = touch({TOUCH_MB})
            time.sleep(4)
            os._exit(0)
        if pid < 0:
            refused.append(ctypes.get_errno())
    kept = touch({TOUCH_MB})  # the render itself may use its share
    time.sleep(1.5)
    if refused:
        raise OSError(refused[0], f"process creation refused {{len(refused)}} times: " + os.strerror(refused[0]))
""")


@pytest.fixture(scope="module")
def low_cap_pool():
    config = SandboxConfig.from_env(workers=1, queue_size=0, memory_bytes=CAP_MB * MIB)
    with SandboxPool(config) as pool:
        yield pool


def test_children_cannot_multiply_the_memory_cap(low_cap_pool):
    before = baseline_mem_available()
    with Sampler(mem_available_bytes) as sampler:
        result = low_cap_pool.render(GREEDY_PARENT, RenderOptions(timeout_s=30))
    held = before - min(sampler.values)
    assert held < (CAP_MB + MARGIN_MB) * MIB, f"the render held {held / MIB:.0f} MiB of host memory"
    assert result.status is Status.EXEC_ERROR, result.summary()
    assert result.error_type == "PermissionError"
    assert f"process creation refused {CHILDREN} times: Operation not permitted" in result.error_message
    assert result.peak_memory_bytes >= TOUCH_MB * MIB  # it did use its own share


def test_the_next_render_after_it_is_clean(low_cap_pool):
    result = low_cap_pool.render("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n")
    assert result.status is Status.OK and len(result.figures) == 1


THREAD_STARTER = textwrap.dedent("""
    import threading, time
    threads = []
    try:
        while True:
            thread = threading.Thread(target=time.sleep, args=(5,), daemon=True)
            thread.start()
            threads.append(thread)
    except RuntimeError as exc:
        print("refused after", len(threads), "threads:", exc)
    import matplotlib.pyplot as plt
    plt.plot([1, 2])
""")


@pytest.fixture(scope="module")
def many_threads_pool():
    # A thread cap far above what the address space allows, so the memory cap is the limit met.
    config = SandboxConfig.from_env(workers=1, queue_size=0, memory_bytes=CAP_MB * MIB, processes=400)
    with SandboxPool(config) as pool:
        yield pool


def test_threads_that_run_out_of_address_space_are_refused_not_hung(many_threads_pool):
    # Each thread costs its stack and nothing more (two malloc arenas, not one per thread):
    # the thread that does not fit is refused at its start. Were a thread to start and then
    # fail its first allocation, its starter would wait for it until the timeout.
    result = many_threads_pool.render(THREAD_STARTER, RenderOptions(timeout_s=20))
    assert result.status is Status.OK, result.summary()
    refused = result.stdout_tail.strip()
    assert refused.startswith("refused after") and refused.endswith("can't start new thread"), refused
    started = int(refused.split()[2])
    assert started > 32, "threads should cost only their stacks"
    assert result.wall_s < 10
    after = many_threads_pool.render("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n")
    assert after.status is Status.OK and len(after.figures) == 1
