"""TokenFD-mini: a small TokenFD trained here on the TokenIT-style engine's pages
(services/datasets/tokenit), by the recipe `make train-tokenfd` (docs/tokenfd-mini.md).

``config`` (the mini model's sizes and the recipe's knobs), ``data`` (448-pixel training crops with
per-token masks), ``composer`` (token embeddings composed from characters), ``objective``
(token-mask alignment: BCE + dice), ``decode`` (a word query's box by following its tokens),
``checkpoint`` (the upstream-layout output the existing loader reads), ``train`` (the loop).
torch: training only, never a serving path.
"""
