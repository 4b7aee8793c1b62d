"""TokenFD-mini: a small TokenFD trained here on the TokenIT-style engine's pages
(services/datasets/tokenit), by the recipe `make train-tokenfd` (docs/tokenfd-mini.md).

``config`` (the mini model's sizes and the recipe's knobs), ``data`` (448-pixel training crops with
per-token masks), ``composer`` (token embeddings composed from characters), ``objective``
(token-mask alignment: BCE + dice), ``decode`` (a word query's box by following its tokens),
``checkpoint`` (the upstream-layout output the existing loader reads), ``train`` (the loop).
torch: training only, never a serving path.
"""
from __future__ import annotations

from pathlib import Path

# Where `make publish-tokenfd` puts the trained model, from the repository's root: the Makefile's
# TOKENFD_MINI_DIR, which `make models` and `make up` serve.
PUBLISHED_DIR = Path("models") / "tokenfd-mini"


def published_checkpoint(root: str | Path = ".") -> Path | None:
    """The published TokenFD-mini under the repository root `root`; None while that directory holds none."""
    directory = Path(root) / PUBLISHED_DIR
    return directory if (directory / "config.json").is_file() else None
