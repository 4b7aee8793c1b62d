"""Why the pool refuses or fails a request (as opposed to a program's own result)."""
from __future__ import annotations


class InvalidRequest(ValueError):
    """The request itself is wrong (too large, bad options): the client's fault."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QueueFull(RuntimeError):
    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"all workers are busy and the queue is full; retry in {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


class SandboxUnavailable(RuntimeError):
    """No jailed worker could be had (the zygote is restarting or failing)."""

    retry_after_ms = 1000


class IsolationUnavailable(RuntimeError):
    """Namespaces or seccomp are missing and the insecure flag is not set."""
