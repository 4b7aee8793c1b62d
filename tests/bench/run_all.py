"""`make bench`: every benchmark, one after the other, each updating its block of docs/benchmarks.md.

Each runs with its own defaults; bench_tokenfd: every core as intra-op threads on every
path, 3 repeats (median and min-max), about 4 minutes on a quiet 2-core machine;
bench_codeperception: 3 repeats, 2 rounds, about 3-4 minutes. Run on
a quiet machine: other load widens the ranges and moves the medians.
"""
from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = (
    ["-m", "tests.bench.bench_tokenfd", "--write-docs"],
    ["-m", "tests.bench.bench_sandbox", "--update-docs"],
    ["-m", "tests.bench.bench_codeperception", "--update-docs"],
    ["-m", "tests.bench.bench_tokenvl", "--write-docs"],
    ["-m", "tests.bench.bench_evaluation", "--write-docs"],
    ["-m", "tests.bench.bench_synth", "--write-docs"],
    ["-m", "tests.bench.bench_locate", "--write-docs"],
    ["-m", "tests.bench.bench_codepercept_mini", "--update-docs"],
    ["-m", "tests.bench.bench_decode_batching", "--update-docs"],
)


def main() -> int:
    for args in BENCHMARKS:
        print(f"== python {' '.join(args)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, *args])
        print(f"== {args[1]}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
