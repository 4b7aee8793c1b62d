"""The stable entry point `python -m percept_sandbox.cli` (the code lives in api/cli.py)."""
import sys

from .api.cli import main, render_file

__all__ = ["main", "render_file"]

if __name__ == "__main__":
    sys.exit(main())
