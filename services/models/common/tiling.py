"""InternVL dynamic tiling and similarity-map stitching (numpy + PIL only), shared by the
families whose vision tower is InternViT (TokenFD, TokenVL). A family passes its own max tiles.

Runs inside the Triton python models and the gateway, so no torch here. The rule
is upstream's, reproduced exactly (docs/tokenfd.md):

1. choose a (cols, rows) grid, 1 <= cols*rows <= max_tiles, whose aspect ratio is
   closest to the image's; on an exact tie the later candidate wins when the image
   area exceeds half the candidate grid's pixel area;
2. resize the image to (448*cols, 448*rows) and cut the tiles row-major;
3. append a 448x448 thumbnail of the whole image only when there is more than one tile;
4. per tile: [0, 1], ImageNet mean/std, float32 (n, 3, 448, 448).

Stitching drops the thumbnail only when it exists: upstream drops the last tile
unconditionally, which loses the only tile of a one-tile image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

TILE_SIZE = 448   # pixels per tile side (InternViT's input)
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@dataclass(frozen=True)
class TiledImage:
    pixel_values: np.ndarray     # (num_tiles, 3, 448, 448) float32, thumbnail last when present
    grid: tuple[int, int]        # (cols, rows)
    has_thumbnail: bool

    @property
    def num_tiles(self) -> int:
        """Tiles sent to the encoder, thumbnail included."""
        return int(self.pixel_values.shape[0])


def candidate_grids(min_tiles: int, max_tiles: int) -> list[tuple[int, int]]:
    """(cols, rows) candidates in upstream's order: by tile count, and within one count
    in the iteration order of the set upstream builds. That inner order decides exact
    ties between grids with the same count (e.g. 1x2 vs 2x1 for a 5:4 image), so the
    set is built the same way rather than sorted by something else."""
    if min_tiles < 1 or max_tiles < min_tiles:
        raise ValueError(f"need 1 <= min_tiles <= max_tiles, got min_tiles={min_tiles}, max_tiles={max_tiles}")
    grids = set((cols, rows)
                for count in range(min_tiles, max_tiles + 1)
                for cols in range(1, count + 1)
                for rows in range(1, count + 1)
                if min_tiles <= cols * rows <= max_tiles)
    return sorted(grids, key=lambda grid: grid[0] * grid[1])


def choose_grid(width: int, height: int, *, max_tiles: int, min_tiles: int = 1,
                tile: int = TILE_SIZE) -> tuple[int, int]:
    """(cols, rows) of the tile grid for a width x height image."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image has zero size ({width}x{height})")
    aspect = width / height
    area = width * height
    best, best_diff = (1, 1), float("inf")
    for cols, rows in candidate_grids(min_tiles, max_tiles):
        diff = abs(aspect - cols / rows)
        if diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and area > 0.5 * tile * tile * cols * rows:
            # equally close: a bigger grid only when the image has the pixels to fill it
            best = (cols, rows)
    return best


def normalize_tile(tile: Image.Image) -> np.ndarray:
    """(3, 448, 448) float32: [0, 1], then ImageNet mean/std (torchvision's order of ops)."""
    if tile.size != (TILE_SIZE, TILE_SIZE):
        tile = tile.resize((TILE_SIZE, TILE_SIZE), Image.Resampling.BICUBIC)
    pixels = np.asarray(tile, dtype=np.float32) / np.float32(255.0)
    pixels = (pixels - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)


def split_tiles(image: Image.Image, grid: tuple[int, int]) -> list[Image.Image]:
    """Resize to the grid (PIL's default resampling, as upstream) and cut row-major."""
    cols, rows = grid
    resized = image.resize((TILE_SIZE * cols, TILE_SIZE * rows))
    return [resized.crop((c * TILE_SIZE, r * TILE_SIZE, (c + 1) * TILE_SIZE, (r + 1) * TILE_SIZE))
            for r in range(rows) for c in range(cols)]


def tile_image(image: Image.Image, *, max_tiles: int, min_tiles: int = 1) -> TiledImage:
    """Tile one image for the vision encoder."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    grid = choose_grid(image.width, image.height, min_tiles=min_tiles, max_tiles=max_tiles)
    tiles = split_tiles(image, grid)
    has_thumbnail = len(tiles) > 1
    if has_thumbnail:
        tiles.append(image.resize((TILE_SIZE, TILE_SIZE)))
    pixel_values = np.stack([normalize_tile(tile) for tile in tiles])
    return TiledImage(pixel_values=pixel_values, grid=grid, has_thumbnail=has_thumbnail)


def stitch_maps(maps: np.ndarray, grid: tuple[int, int], has_thumbnail: bool) -> np.ndarray:
    """(n, T, g, g) per-tile maps -> (T, g*rows, g*cols), row-major; the thumbnail's
    map (last, only when present) is dropped."""
    cols, rows = int(grid[0]), int(grid[1])
    maps = np.asarray(maps)
    if maps.ndim != 4 or maps.shape[2] != maps.shape[3]:
        raise ValueError(f"expected maps of shape (n, T, g, g), got {maps.shape}")
    expected = cols * rows + (1 if has_thumbnail else 0)
    if maps.shape[0] != expected:
        raise ValueError(f"{maps.shape[0]} tile maps for a {cols}x{rows} grid "
                         f"{'with' if has_thumbnail else 'without'} thumbnail (expected {expected})")
    tiles = maps[:cols * rows]
    n_tokens, side = maps.shape[1], maps.shape[2]
    # (rows, cols, T, g, g) -> (T, rows, g, cols, g) -> (T, rows*g, cols*g)
    stitched = tiles.reshape(rows, cols, n_tokens, side, side).transpose(2, 0, 3, 1, 4)
    return np.ascontiguousarray(stitched.reshape(n_tokens, rows * side, cols * side))
