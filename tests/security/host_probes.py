"""What the host sees while a render runs: sampled in a background thread."""
from __future__ import annotations

import os
import threading
import time

from tests.sandbox.harness import descendants

MIB = 1024 * 1024


def mem_available_bytes() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def task_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


class Sampler:
    """Calls `probe` every `interval_s` until stopped; keeps every value."""

    def __init__(self, probe, interval_s: float = 0.02) -> None:
        self.probe = probe
        self.interval_s = interval_s
        self.values: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.values.append(self.probe())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def baseline_mem_available(duration_s: float = 0.5) -> int:
    """The host's MemAvailable just before a render (the highest of a short sample)."""
    with Sampler(mem_available_bytes) as sampler:
        time.sleep(duration_s)
    return max(sampler.values)


def tree_tasks(root_pid: int) -> tuple[int, int]:
    """(processes, tasks) descending from `root_pid`, threads counted as tasks."""
    pids = descendants(root_pid)
    return len(pids), sum(task_count(pid) for pid in pids)
