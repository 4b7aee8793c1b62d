"""One render, all of its processes and threads together, stays within the memory cap.

RLIMIT_AS is per process; the cap holds for the render because the render is one
process (seccomp refuses fork, vfork and clone without CLONE_THREAD). The host's
MemAvailable is sampled while a program tries to start children that each touch
half the cap: without the refusal they would hold several times the cap.

The memory bomb reports how far it got: it allocates in steps and prints its total after
each, so the size at which it was stopped is checked against the configured cap, not only
that some limit was hit (a cap raised tenfold would still stop a bomb somewhere).
"""
from __future__ import annotations

import textwrap

import pytest

from percept_sandbox import settings as sandbox_settings
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


def config_with_cap(cap_mb: int, **overrides) -> SandboxConfig:
    """The pool's config with its memory cap set as an operator sets it (the environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sandbox_settings.MEMORY_MB.name, str(cap_mb))
        return SandboxConfig.from_env(workers=1, queue_size=0, **overrides)


@pytest.fixture(scope="module")
def low_cap_pool():
    with SandboxPool(config_with_cap(CAP_MB)) as pool:
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


BOMB_STEP_MB = 16
# The program's own allocations reach the cap less what the render holds before it starts:
# its /tmp (tmpfs, 64 MiB by default) and the address space the interpreter and the preloaded
# libraries map (~350 MiB), plus at most one step that did not fit.
BOMB_MARGIN_MB = 512
WIDER_BY_MB = 512   # a second pool's extra cap
MEMORY_BOMB = textwrap.dedent(f"""
    import numpy as np
    held, total = [], 0
    while True:
        held.append(np.empty({BOMB_STEP_MB} << 20, np.uint8))  # address space, pages left untouched
        total += {BOMB_STEP_MB}
        print("held", total, flush=True)
""")


def bomb_stopped_at_mb(pool) -> int:
    """MiB the memory bomb held when its next step was refused."""
    result = pool.render(MEMORY_BOMB, RenderOptions(timeout_s=30))
    assert result.status is Status.MEMORY_LIMIT, result.summary()
    assert result.error_type == "MemoryError"
    last = result.stdout_tail.strip().splitlines()[-1]
    assert last.startswith("held "), result.stdout_tail
    return int(last.split()[1])


@pytest.fixture(scope="module")
def wider_cap_pool():
    with SandboxPool(config_with_cap(CAP_MB + WIDER_BY_MB)) as pool:
        yield pool


def test_a_memory_bomb_is_stopped_at_the_configured_cap(low_cap_pool, wider_cap_pool):
    held = bomb_stopped_at_mb(low_cap_pool)
    assert CAP_MB - BOMB_MARGIN_MB <= held <= CAP_MB - BOMB_STEP_MB, f"stopped at {held} MiB, cap {CAP_MB} MiB"
    # Whatever the render held before the bomb, the bomb gets exactly the extra memory of a wider cap.
    wider = bomb_stopped_at_mb(wider_cap_pool)
    assert abs((wider - held) - WIDER_BY_MB) <= BOMB_STEP_MB, f"{WIDER_BY_MB} MiB more cap gave {wider - held} MiB"


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
    with SandboxPool(config_with_cap(CAP_MB, processes=400)) as pool:
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
