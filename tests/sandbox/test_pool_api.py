"""The pool's measurement API: pre-forking held back inside `prefork_paused()`."""
from __future__ import annotations

import time

from percept_sandbox.config import SandboxConfig
from percept_sandbox.pool import SandboxPool

PROGRAM = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"


def test_prefork_paused_holds_back_replacement_children():
    with SandboxPool(SandboxConfig.from_env(workers=1, queue_size=0)) as pool:
        assert pool.wait_until_refilled(30)
        with pool.prefork_paused():
            assert pool.render(PROGRAM).status.value == "OK"  # takes the one waiting child
            time.sleep(1.0)  # a replacement would be forked and ready by now
            assert not pool.wait_until_refilled(0.5)
        assert pool.wait_until_refilled(30)  # resumed on leaving
        assert pool.render(PROGRAM).status.value == "OK"
