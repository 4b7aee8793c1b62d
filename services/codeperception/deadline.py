"""The time a call has left, shared by everything the call waits on (backend, sandbox)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from services.common.errors import ErrorCode, PerceptError


@dataclass(frozen=True)
class Deadline:
    expires_at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> "Deadline":
        return cls(time.monotonic() + seconds)

    @classmethod
    def of_call(cls, time_remaining: float | None, default_s: float) -> "Deadline":
        """The caller's deadline (grpc's time_remaining()), or the server's default without one."""
        seconds = default_s if time_remaining is None else min(time_remaining, default_s)
        return cls.after(seconds)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def require(self, what: str) -> float:
        """Seconds left for `what`; DEADLINE_EXCEEDED when none are."""
        left = self.remaining()
        if left <= 0:
            raise PerceptError(ErrorCode.DEADLINE_EXCEEDED, f"the deadline passed before {what}")
        return left
