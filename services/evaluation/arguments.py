"""What the evaluation's command lines share: argument types and the line a refusal prints."""
from __future__ import annotations

import argparse
import sys


def fail(program: str, message: str, status: int = 2) -> int:
    """Print `program: message` to stderr; the exit status to return (2: bad invocation)."""
    print(f"{program}: {message}", file=sys.stderr)
    return status


def positive_int(text: str) -> int:
    """An argparse type: an integer of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value
