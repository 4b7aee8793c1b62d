"""Progress of a run: a tqdm bar on a terminal, plain periodic lines otherwise (logs, CI, pods)."""
from __future__ import annotations

import sys
import time
from collections import Counter


class Progress:
    def __init__(self, *, total: int, done: int = 0, interval_s: float = 10.0, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.total = total
        self.done = done
        self.statuses: Counter[str] = Counter()
        self.interval_s = interval_s
        self.started = time.monotonic()
        self.last_line = self.started
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=done, unit="sample", file=self.stream, dynamic_ncols=True)
        elif done:
            self._line("resuming")

    def advance(self, status: str) -> None:
        self.done += 1
        self.statuses[status] += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(self._statuses(), refresh=False)
        elif time.monotonic() - self.last_line >= self.interval_s or self.done == self.total:
            self._line("progress")

    def _statuses(self) -> str:
        return " ".join(f"{name}={count}" for name, count in sorted(self.statuses.items()))

    def _line(self, what: str) -> None:
        self.last_line = time.monotonic()
        elapsed = self.last_line - self.started
        print(f"percept-eval {what}: {self.done}/{self.total} samples, {elapsed:.0f}s, {self._statuses()}".rstrip(),
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
