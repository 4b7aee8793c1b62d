"""`make bench`: every benchmark, one after the other, each updating its block of docs/benchmarks.md."""
from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    ["-m", "tests.bench.bench_tokenfd", "--write-docs"],
    ["-m", "tests.bench.bench_sandbox", "--update-docs"],
)


def main() -> int:
    for args in BENCHMARKS:
        print(f"== python {' '.join(args)}", flush=True)
        code = subprocess.call([sys.executable, *args])
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
