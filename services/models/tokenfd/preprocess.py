"""TokenFD's preprocessing: InternVL's dynamic tiling and map stitching
(services/models/common/tiling.py, where the rule is written) with TokenFD's max tiles
(services/models/tokenfd/config.py) as the default. numpy + PIL only: runs inside the Triton
python models and the gateway.
"""
from __future__ import annotations

from PIL import Image

from services.models.common import tiling
from services.models.common.tiling import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TILE_SIZE,
    TiledImage,
    candidate_grids,
    normalize_tile,
    split_tiles,
    stitch_maps,
)
from services.models.tokenfd.config import DEFAULT_MAX_TILES, FEATURE_GRID


def choose_grid(width: int, height: int, *, min_tiles: int = 1, max_tiles: int = DEFAULT_MAX_TILES,
                tile: int = TILE_SIZE) -> tuple[int, int]:
    """(cols, rows) of the tile grid for a width x height image."""
    return tiling.choose_grid(width, height, min_tiles=min_tiles, max_tiles=max_tiles, tile=tile)


def tile_image(image: Image.Image, *, max_tiles: int = DEFAULT_MAX_TILES, min_tiles: int = 1) -> TiledImage:
    """Tile one image for the encoder."""
    return tiling.tile_image(image, max_tiles=max_tiles, min_tiles=min_tiles)


__all__ = ["FEATURE_GRID", "IMAGENET_MEAN", "IMAGENET_STD", "TILE_SIZE", "TiledImage", "candidate_grids",
           "choose_grid", "normalize_tile", "split_tiles", "stitch_maps", "tile_image"]
