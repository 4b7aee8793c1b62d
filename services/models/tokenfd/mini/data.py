"""Training crops from an engine corpus (services/datasets/tokenit): 448-pixel tiles with the mask
of every token id drawn in them, at the 128x128 resolution of TokenFD's feature map.

A crop is cut from a page rescaled as the serving path's tiling rescales it (the page stretched to
its grid of 448 tiles at the default tile budget, so low-resolution pages are enlarged and large ones
shrunk), times a random factor for other tile budgets. Pixels are normalised as the serving
preprocessing does (ImageNet mean and std, services/models/tokenfd/preprocess.py).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from services.datasets.tokenit.writer import read_records
from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.preprocess import choose_grid, normalize_tile

# The factor applied to the served scale of a training crop, drawn log-uniformly: below 1 stands for
# a smaller tile budget (one tile for a whole page is about 0.35-0.5 of the default's scale), above 1
# for text enlarged beyond it. v1 drew a page scale of 0.55-1.25 regardless of the page, while the
# served tiling enlarges a page by up to 2.2x (median 1.15): most served text was larger than any seen.
SCALE_JITTER = (0.5, 1.4)
TEXT_CROP_SHARE = 0.9      # crops placed around a word (the rest anywhere on the page)
# The feature cell (of FEATURE_GRID x FEATURE_GRID) each tile pixel falls in, and each cell's pixel count.
_ROW_CELL = np.arange(TILE_SIZE) * FEATURE_GRID // TILE_SIZE
_CELL_OF_PIXEL = _ROW_CELL[:, None] * FEATURE_GRID + _ROW_CELL[None, :]
_CELLS = FEATURE_GRID * FEATURE_GRID
_CELL_AREA = np.bincount(_CELL_OF_PIXEL.ravel(), minlength=_CELLS)


@dataclass
class Crop:
    pixels: torch.Tensor          # (3, 448, 448) normalised
    ids: torch.Tensor             # (K,) token ids present
    masks: torch.Tensor           # (K, 128, 128) soft coverage of each id
    token_boxes: list             # [(id, word, x0, y0, x1, y1)] in crop pixels, fully inside
    words: list                   # [(text, (x0, y0, x1, y1))] fully inside the crop


def single_word_queries(crop: Crop) -> list[tuple[str, tuple]]:
    """The held-out metric's queries in a crop: words that occur once in it, of at least 2 letters or
    digits, with their boxes, in reading order."""
    counts: dict[str, int] = {}
    for text, _ in crop.words:
        counts[text] = counts.get(text, 0) + 1
    return [(text, box) for text, box in crop.words if counts[text] == 1 and sum(ch.isalnum() for ch in text) >= 2]


def served_scale(width: int, height: int) -> tuple[float, float]:
    """The (x, y) factors by which the serving tiling stretches a page of this size (to its grid of
    tiles at the default tile budget)."""
    cols, rows = choose_grid(width, height)
    return cols * TILE_SIZE / width, rows * TILE_SIZE / height


class Corpus:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.records = read_records(self.directory)
        if not self.records:
            raise FileNotFoundError(f"no pages*.jsonl with pages in {self.directory}")

    def __len__(self) -> int:
        return len(self.records)

    def crop(self, rng: random.Random, index: int | None = None, jitter: bool = True) -> Crop:
        """A training crop (`jitter`: at a random factor of the served scale) or, without jitter, a
        crop at exactly the scale the default tiling serves the page at (the held-out metric's)."""
        record = self.records[rng.randrange(len(self.records)) if index is None else index]
        image = Image.open(self.directory / record["image"]).convert("RGB")
        labels = Image.open(self.directory / record["mask"])
        factor = math.exp(rng.uniform(*(math.log(f) for f in SCALE_JITTER))) if jitter else 1.0
        scale = tuple(s * factor for s in served_scale(image.width, image.height))
        size = (max(1, round(image.width * scale[0])), max(1, round(image.height * scale[1])))
        x, y = self._origin(rng, record, scale, size)
        # Only the crop's part of the page is resized (resizing the whole page cost more than the step).
        width, height = min(TILE_SIZE, size[0] - x), min(TILE_SIZE, size[1] - y)
        box = (x / scale[0], y / scale[1], min(image.width, (x + width) / scale[0]),
               min(image.height, (y + height) / scale[1]))
        tile = Image.new("RGB", (TILE_SIZE, TILE_SIZE), image.getpixel((0, 0)))
        tile.paste(image.resize((width, height), Image.BILINEAR, box=box), (0, 0))
        label_tile = np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.int64)
        label_tile[:height, :width] = np.asarray(labels.resize((width, height), Image.NEAREST, box=box))
        return self._targets(record, tile, label_tile, scale, (x, y))

    @staticmethod
    def _origin(rng: random.Random, record: dict, scale: tuple[float, float],
                size: tuple[int, int]) -> tuple[int, int]:
        """The crop's top-left corner (scaled page pixels): most crops hold a word drawn at random
        somewhere inside them, the rest fall anywhere (a fifth of uniform crops were blank margin)."""
        span = (max(0, size[0] - TILE_SIZE), max(0, size[1] - TILE_SIZE))
        if record["words"] and rng.random() < TEXT_CROP_SHARE:
            x0, y0, x1, y1 = rng.choice(record["words"])["box"]
            centre = ((x0 + x1) / 2 * scale[0], (y0 + y1) / 2 * scale[1])
            return tuple(min(limit, max(0, round(c - rng.uniform(0.1, 0.9) * TILE_SIZE)))
                         for c, limit in zip(centre, span, strict=True))
        return rng.randint(0, span[0]), rng.randint(0, span[1])

    def _targets(self, record: dict, tile: Image.Image, label_tile: np.ndarray, scale: tuple[float, float],
                 origin) -> Crop:
        tokens = record["tokens"]
        token_ids = np.array([-1] + [t[0] for t in tokens], dtype=np.int64)   # label k+1 -> token k
        id_map = token_ids[label_tile]
        drawn = id_map >= 0
        present, which = np.unique(id_map[drawn], return_inverse=True)
        # each id's share of every feature cell's pixels, by counting (a one-hot stack would be
        # ids x 448 x 448 floats)
        counts = np.bincount(which * _CELLS + _CELL_OF_PIXEL[drawn], minlength=len(present) * _CELLS)
        masks = (counts.reshape(len(present), _CELLS) / _CELL_AREA).astype(np.float32)
        masks = torch.from_numpy(masks.reshape(len(present), FEATURE_GRID, FEATURE_GRID))
        ox, oy = origin

        def inside(box) -> tuple | None:
            sx, sy = scale
            x0, y0, x1, y1 = (box[0] * sx - ox, box[1] * sy - oy, box[2] * sx - ox, box[3] * sy - oy)
            return (x0, y0, x1, y1) if x0 >= 0 and y0 >= 0 and x1 <= TILE_SIZE and y1 <= TILE_SIZE else None

        token_boxes = [(t[0], t[1], *b) for t in tokens if (b := inside(t[2:])) is not None]
        words = [(w["text"], b) for w in record["words"] if (b := inside(w["box"])) is not None]
        return Crop(torch.from_numpy(normalize_tile(tile)), torch.from_numpy(present), masks, token_boxes, words)
