"""Training crops from an engine corpus (services/datasets/tokenit): 448-pixel tiles with the mask
of every token id drawn in them, at the 128x128 resolution of TokenFD's feature map.

A crop is cut at a random place of a page, after a random rescale (text from small print to
titles), so text sits at the scale the serving path's tiling gives it. Pixels are normalised as
the serving preprocessing does (ImageNet mean and std, services/models/tokenfd/preprocess.py).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from services.datasets.tokenit.writer import read_records
from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.preprocess import normalize_tile

SCALE_RANGE = (0.55, 1.25)


@dataclass
class Crop:
    pixels: torch.Tensor          # (3, 448, 448) normalised
    ids: torch.Tensor             # (K,) token ids present
    masks: torch.Tensor           # (K, 128, 128) soft coverage of each id
    token_boxes: list             # [(id, word, x0, y0, x1, y1)] in crop pixels, fully inside
    words: list                   # [(text, (x0, y0, x1, y1))] fully inside the crop


class Corpus:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.records = read_records(self.directory)
        if not self.records:
            raise FileNotFoundError(f"no pages*.jsonl with pages in {self.directory}")

    def __len__(self) -> int:
        return len(self.records)

    def crop(self, rng: random.Random, index: int | None = None) -> Crop:
        record = self.records[rng.randrange(len(self.records)) if index is None else index]
        image = Image.open(self.directory / record["image"]).convert("RGB")
        labels = np.asarray(Image.open(self.directory / record["mask"]))
        scale = rng.uniform(*SCALE_RANGE)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.BILINEAR)
        labels = np.asarray(Image.fromarray(labels).resize(size, Image.NEAREST))
        x = rng.randint(0, max(0, size[0] - TILE_SIZE))
        y = rng.randint(0, max(0, size[1] - TILE_SIZE))
        tile = Image.new("RGB", (TILE_SIZE, TILE_SIZE), image.getpixel((0, 0)))
        tile.paste(image.crop((x, y, x + TILE_SIZE, y + TILE_SIZE)), (0, 0))
        label_tile = np.zeros((TILE_SIZE, TILE_SIZE), dtype=np.int64)
        part = labels[y:y + TILE_SIZE, x:x + TILE_SIZE]
        label_tile[:part.shape[0], :part.shape[1]] = part
        return self._targets(record, tile, label_tile, scale, (x, y))

    def _targets(self, record: dict, tile: Image.Image, label_tile: np.ndarray, scale: float, origin) -> Crop:
        tokens = record["tokens"]
        token_ids = np.array([-1] + [t[0] for t in tokens], dtype=np.int64)   # label k+1 -> token k
        id_map = torch.from_numpy(token_ids[label_tile])
        present = torch.unique(id_map)
        present = present[present >= 0]
        onehot = (id_map.unsqueeze(0) == present.view(-1, 1, 1)).float().unsqueeze(1)
        masks = F.adaptive_avg_pool2d(onehot, FEATURE_GRID).squeeze(1) if len(present) else \
            torch.zeros(0, FEATURE_GRID, FEATURE_GRID)
        ox, oy = origin

        def inside(box) -> tuple | None:
            x0, y0, x1, y1 = (box[0] * scale - ox, box[1] * scale - oy, box[2] * scale - ox, box[3] * scale - oy)
            return (x0, y0, x1, y1) if x0 >= 0 and y0 >= 0 and x1 <= TILE_SIZE and y1 <= TILE_SIZE else None

        token_boxes = [(t[0], t[1], *b) for t in tokens if (b := inside(t[2:])) is not None]
        words = [(w["text"], b) for w in record["words"] if (b := inside(w["box"])) is not None]
        return Crop(torch.from_numpy(normalize_tile(tile)), present, masks, token_boxes, words)
