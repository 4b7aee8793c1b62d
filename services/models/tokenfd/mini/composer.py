"""Token embeddings composed from characters, so what is learned for one piece helps the others.

The upstream table is a frozen LLM embedding: pieces that share letters share nothing. A table
learned from scratch on a few thousand pages sees most of its 2,000 rows rarely. Here a piece's
embedding is a sum of its characters' embeddings at their positions (bytes of the piece, the
word-initial marker as its own symbol), through a small MLP, plus a per-piece residual that
starts at zero. At export the composer is run once over the whole vocabulary and the result is
the plain `tok_embeddings.weight` table of the upstream layout: inference never sees it.
"""
from __future__ import annotations

import torch
from torch import nn

MAX_CHARS = 16
SPACE_SYMBOL = 256          # "\u2581", the word-initial marker
PAD_SYMBOL = 257


def piece_symbols(pieces: list[str]) -> torch.Tensor:
    """(V, MAX_CHARS) symbol ids: UTF-8 bytes, the space marker, padding."""
    rows = []
    for piece in pieces:
        symbols = []
        if piece.startswith("<0x") and piece.endswith(">") and len(piece) == 6:
            symbols = [int(piece[3:5], 16)]              # a byte-fallback piece is that byte
        else:
            for char in piece:
                symbols.extend([SPACE_SYMBOL] if char == "\u2581" else list(char.encode()))
        rows.append((symbols + [PAD_SYMBOL] * MAX_CHARS)[:MAX_CHARS])
    return torch.tensor(rows, dtype=torch.long)


class CharComposer(nn.Module):
    def __init__(self, pieces: list[str], dim: int) -> None:
        super().__init__()
        self.register_buffer("symbols", piece_symbols(pieces), persistent=False)
        self.chars = nn.Embedding(PAD_SYMBOL + 1, dim, padding_idx=PAD_SYMBOL)
        self.positions = nn.Parameter(torch.randn(MAX_CHARS, dim) * 0.02)
        self.mix = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.residual = nn.Embedding(len(pieces), dim)
        nn.init.zeros_(self.residual.weight)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        symbols = self.symbols[ids]                                   # (..., MAX_CHARS)
        present = (symbols != PAD_SYMBOL).unsqueeze(-1).float()
        summed = ((self.chars(symbols) + self.positions) * present).sum(-2)
        return self.mix(summed) + self.residual(ids)

    @torch.no_grad()
    def table(self) -> torch.Tensor:
        """(V, dim): every piece's embedding, the checkpoint's tok_embeddings.weight."""
        return self.forward(torch.arange(self.residual.num_embeddings, device=self.positions.device))
