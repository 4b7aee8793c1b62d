"""Profile-guided pre-faulting of the pages every render writes (opt-in: PERCEPT_SANDBOX_PREFAULT).

A child forked from the zygote shares its memory copy-on-write, and CPython's
reference counting writes to the page of every object a render touches: a
render takes ~4,000 copy-on-write faults, a trap and a page copy each, on the
critical path. Most of those pages are the same for every render (the core of
the interpreter, numpy, matplotlib and the runner itself).

At start-up the zygote forks a few probe children that each run a different
small program through the full render protocol and read back (from
/proc/self/pagemap) which of the zygote's pages they now own privately. The
pages *every* probe wrote form the hot set; each pre-forked child then breaks
copy-on-write for exactly those pages with MADV_POPULATE_WRITE while it waits
for its program.

The trade-off, measured on 2 cores: renders on an idle machine are 10-20 ms
faster, because the copying happens before the program arrives, on the other
core; but copying a page costs about as much ahead of time as on demand, so
under full load nothing is gained and the probe's extra pages cost CPU. Hence
off by default (the pool's throughput counts for batch evaluation).
"""
from __future__ import annotations

import ctypes
import os

import numpy as np

MADV_POPULATE_WRITE = 23  # Linux 5.14
MERGE_GAP_PAGES = 0
PAGE = os.sysconf("SC_PAGE_SIZE")
_PRESENT = np.uint64(1 << 63)
_EXCLUSIVE = np.uint64(1 << 56)  # mapped by this process only (a private copy)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.madvise.restype = ctypes.c_int

PROBE_PROGRAMS = (
    """
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(-3, 3, 200)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(x, np.tanh(x), label="tanh")
ax.plot(x, x / 3, "--", label="x/3")
ax.set_title("probe one")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
ax.grid(True)
plt.savefig("probe.png")
""",
    """
import matplotlib.pyplot as plt
from matplotlib.patches import Circle
fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
bars = a.bar(["p", "q", "r"], [2, 5, 3], color=["C1", "C2", "C3"])
a.bar_label(bars)
b.add_patch(Circle((0.5, 0.5), 0.3, fill=False))
b.annotate("centre", xy=(0.5, 0.5), xytext=(0.1, 0.9), arrowprops={"arrowstyle": "->"})
b.set_aspect("equal")
fig.suptitle("probe two")
plt.tight_layout()
plt.show()
""",
    """
import numpy as np
import matplotlib.pyplot as plt
rng = np.random.default_rng(1)
fig = plt.figure(figsize=(5, 5))
ax = fig.add_subplot()
points = ax.scatter(rng.normal(size=50), rng.normal(size=50), c=rng.uniform(size=50))
fig.colorbar(points, ax=ax)
ax.text(0, 0, r"$\\mu = 0$", fontsize=12)
ax.set_title("probe three")
""",
)


def writable_private_regions() -> list[tuple[int, int]]:
    regions = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if "w" in fields[1] and fields[1].endswith("p"):
                low, high = (int(x, 16) for x in fields[0].split("-"))
                regions.append((low, high))
    return regions


def private_pages(regions: list[tuple[int, int]]) -> np.ndarray:
    """Addresses of the pages in `regions` this process maps exclusively."""
    found = []
    with open("/proc/self/pagemap", "rb") as pagemap:
        for low, high in regions:
            pagemap.seek(low // PAGE * 8)
            entries = np.frombuffer(pagemap.read((high - low) // PAGE * 8), dtype=np.uint64)
            mine = (entries & _PRESENT).astype(bool) & (entries & _EXCLUSIVE).astype(bool)
            found.append(low + np.flatnonzero(mine).astype(np.uint64) * PAGE)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)


def _probe_once(run_program, program: str, regions) -> np.ndarray:
    """Pages a child of this process writes while rendering `program`."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_fd)
            run_program(program)
            data = private_pages(regions).tobytes()
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 1 << 20):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"prefault probe failed with status {status}")
    return np.frombuffer(b"".join(chunks), dtype=np.uint64)


def probe_hot_ranges(run_program, programs=PROBE_PROGRAMS) -> tuple[tuple[int, int], ...]:
    """(start, length) ranges of the pages every probe program wrote."""
    regions = writable_private_regions()
    hot = None
    for program in programs:
        pages = _probe_once(run_program, program, regions)
        hot = pages if hot is None else np.intersect1d(hot, pages, assume_unique=True)
    return merge(hot if hot is not None else np.zeros(0, dtype=np.uint64))


def merge(pages: np.ndarray, gap_pages: int = MERGE_GAP_PAGES) -> tuple[tuple[int, int], ...]:
    """Ranges covering the pages; gaps of a few pages are bridged (a system call costs more)."""
    ranges: list[list[int]] = []
    for page in np.sort(pages).tolist():
        if ranges and page - (ranges[-1][0] + ranges[-1][1]) <= gap_pages * PAGE:
            ranges[-1][1] = page + PAGE - ranges[-1][0]
        else:
            ranges.append([page, PAGE])
    return tuple((start, length) for start, length in ranges)


def populate(ranges: tuple[tuple[int, int], ...]) -> int:
    """Break copy-on-write for the ranges now; returns the pages done (0 if unsupported)."""
    done = 0
    for start, length in ranges:
        if _libc.madvise(start, length, MADV_POPULATE_WRITE) == 0:
            done += length // PAGE
        elif ctypes.get_errno() == 22:  # EINVAL: a kernel before 5.14
            break
    return done
