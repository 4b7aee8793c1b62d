"""A render is one process: Python's ways of starting another fail with a clear error.

The seccomp filter is what enforces it (fork, vfork and clone without
CLONE_THREAD answer EPERM, see seccomp_policy.py), whatever path the program
takes, ctypes included. This audit hook only turns the interpreter's own
process-creating calls into an exception that says why, before they reach the
kernel: without it `os.system` would merely return -1, and `os.fork` would
report a bare "Operation not permitted". An audit hook cannot be removed.
"""
from __future__ import annotations

import errno
import sys

PROCESS_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.system", "os.posix_spawn", "os.posix_spawnp", "subprocess.Popen",
})
REFUSAL = "the sandbox does not permit creating processes"


def _refuse_process_creation(event: str, args: tuple) -> None:
    if event in PROCESS_EVENTS:
        raise PermissionError(errno.EPERM, f"{REFUSAL} ({event})")


def refuse_process_creation() -> None:
    """Install the hook (in the jailed child, once its own set-up is done)."""
    sys.addaudithook(_refuse_process_creation)
