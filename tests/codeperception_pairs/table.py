"""Print the separation table of docs/codeperception.md: every variant scored against its
reference's render, on the real sandbox.

    PYTHONPATH=. .venv/bin/python -m tests.codeperception_pairs.table
"""
from __future__ import annotations

from services.codeperception.fidelity import METRICS, score
from tests.codeperception_pairs.rendering import BASES, program, render, start_pool, variants_of


def rows():
    with start_pool() as pool:
        for base in BASES:
            reference = render(pool, program(base))
            for variant in ["reference"] + variants_of(base):
                candidate = render(pool, program(base, variant))  # the reference too: rendered again
                report = score(reference.png, candidate.png, reference_trace=reference.trace,
                               candidate_trace=candidate.trace)
                yield base, "identical" if variant == "reference" else variant, report


def main() -> None:
    print("| program | variant | " + " | ".join(METRICS) + " | aggregate |")
    print("|---|---|" + "---:|" * (len(METRICS) + 1))
    for base, variant, report in rows():
        values = " | ".join(f"{getattr(report, m):.3f}" for m in METRICS)
        print(f"| {base} | {variant} | {values} | {report.aggregate:.3f} |")


if __name__ == "__main__":
    main()
