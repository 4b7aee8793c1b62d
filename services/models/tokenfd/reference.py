"""The PyTorch reference pipeline (fp32, eval): what upstream's inference recipe
computes, with its stitching bug fixed. Used for parity checks of the exported graph
and the served path, and as the "PyTorch eager" line of the benchmark.

Deliberately computed the upstream way, not through the serving helpers: features
of the grid tiles are stitched into one (rows*128, cols*128, D) map first, both
sides are L2-normalised (x / |x|), and the similarity is a plain dot product with no
temperature. Only the thumbnail handling differs from upstream: its feature tile is
dropped when it exists, instead of always dropping the last tile.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from services.models.tokenfd import checkpoint as ckpt
from services.models.tokenfd.config import DEFAULT_MAX_TILES, TokenFDConfig
from services.models.tokenfd.preprocess import tile_image
from services.models.tokenfd.tokenizer import QueryTokenizer


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


class TokenFDReference:
    def __init__(self, model, config: TokenFDConfig, tokenizer: QueryTokenizer | None) -> None:
        self.model = model.eval()
        self.config = config
        self.tokenizer = tokenizer

    @classmethod
    def from_checkpoint(cls, checkpoint_dir: str | Path) -> "TokenFDReference":
        directory = Path(checkpoint_dir)
        model, config = ckpt.load_model(directory)
        tokenizer_path = directory / ckpt.TOKENIZER_FILE
        tokenizer = QueryTokenizer.from_file(tokenizer_path) if tokenizer_path.is_file() else None
        return cls(model, config, tokenizer)

    # --- the encoder, on a batch of tiles --------------------------------------------------
    @torch.inference_mode()
    def encode_tiles(self, pixel_values: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(N, 3, 448, 448) -> (N, 16384, D) float32 features (the encoder graph's inside)."""
        pixels = torch.as_tensor(np.asarray(pixel_values, dtype=np.float32)) \
            if isinstance(pixel_values, np.ndarray) else pixel_values.float()
        return self.model.tile_features(pixels)

    @torch.inference_mode()
    def similarity(self, pixel_values: np.ndarray | torch.Tensor,
                   query_embeddings: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(N, 3, 448, 448), (N, T, D) -> (N, T, 128, 128): what the exported graph computes."""
        features = _unit(self.encode_tiles(pixel_values))
        queries = _unit(torch.as_tensor(np.asarray(query_embeddings, dtype=np.float32))
                        if isinstance(query_embeddings, np.ndarray) else query_embeddings.float())
        maps = torch.einsum("ntd,nsd->nts", queries, features)
        grid = self.config.feature_grid
        return maps.reshape(maps.shape[0], maps.shape[1], grid, grid)

    # --- a whole request -------------------------------------------------------------------
    def tokenize(self, query: str) -> tuple[list[int], list[str]]:
        if self.tokenizer is None:
            raise FileNotFoundError("the checkpoint has no tokenizer.model")
        return self.tokenizer.encode_query(query)

    @torch.inference_mode()
    def locate(self, image: Image.Image, query: str, max_tiles: int = DEFAULT_MAX_TILES) -> np.ndarray:
        """(T, 128*rows, 128*cols) float32 cosine similarity of each query token."""
        ids, _ = self.tokenize(query)
        if not ids:
            raise ValueError("the query has no tokens")
        tiled = tile_image(image, max_tiles=max_tiles)
        features = self.encode_tiles(tiled.pixel_values)
        if tiled.has_thumbnail:      # the fix: upstream drops features[-1] even without a thumbnail
            features = features[:-1]
        cols, rows = tiled.grid
        grid, dim = self.config.feature_grid, self.config.feature_dim
        stitched = (features.reshape(rows, cols, grid, grid, dim)
                    .permute(0, 2, 1, 3, 4)
                    .reshape(rows * grid, cols * grid, dim))
        queries = self.model.embed_tokens(torch.tensor(ids, dtype=torch.long))
        similarity = torch.einsum("td,hwd->thw", _unit(queries), _unit(stitched))
        return similarity.numpy().astype(np.float32, copy=False)
