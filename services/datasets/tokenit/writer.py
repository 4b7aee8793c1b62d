"""Writing a shard of pages: JSONL records, images and token label maps, staged then moved.

    DIR/pages.jsonl                         the whole corpus (no --shard), or
    DIR/pages.shard-00002-of-00008.jsonl    shard 2 of 8 (readers take every pages*.jsonl of DIR)
    DIR/images/tokenit-0000012-invoice.jpg  the page (JPEG, quality 92)
    DIR/masks/tokenit-0000012-invoice.png   16-bit label map: pixel k+1 = token k of the record

One JSONL line per page (engine.Page.record): index, name, size, template, renderer, dpi, fonts,
augmentations, words (text, box) and tokens ([id, word, x0, y0, x1, y1], pixels). Files are
written under a staging directory and moved into place once the shard's last page is done, the
JSONL last, so a killed run leaves no partial JSONL; the next run of that shard removes its
leftovers. As in services/evaluation/synth/writer.py.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from PIL import Image

from services.evaluation.shards import Shard

from .engine import Page

STEM = "pages"
IMAGES, MASKS = "images", "masks"
JPEG_QUALITY = 92


def jsonl_name(shard: Shard) -> str:
    return f"{STEM}.jsonl" if shard.count == 1 else f"{STEM}.shard-{shard.index:05d}-of-{shard.count:05d}.jsonl"


class StagedShard:
    def __init__(self, directory: Path, shard: Shard) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = jsonl_name(shard)
        prefix = f".staging-{self.name}-"
        for stale in self.directory.glob(f"{prefix}*"):
            shutil.rmtree(stale, ignore_errors=True)
        self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=self.directory))
        for sub in (IMAGES, MASKS):
            (self.staging / sub).mkdir()
        self.jsonl = open(self.staging / self.name, "w", encoding="utf-8")
        self.names: list[str] = []

    def add(self, page: Page, extra: dict) -> None:
        page.image.save(self.staging / IMAGES / f"{page.name}.jpg", quality=JPEG_QUALITY)
        Image.fromarray(page.labels).save(self.staging / MASKS / f"{page.name}.png")
        self.names.append(page.name)
        record = {**page.record(), **extra, "image": f"{IMAGES}/{page.name}.jpg", "mask": f"{MASKS}/{page.name}.png"}
        self.jsonl.write(json.dumps(record, separators=(",", ":")) + "\n")

    def commit(self) -> Path:
        self.jsonl.close()
        try:
            for sub, suffix in ((IMAGES, ".jpg"), (MASKS, ".png")):
                (self.directory / sub).mkdir(exist_ok=True)
                for name in self.names:
                    os.replace(self.staging / sub / f"{name}{suffix}", self.directory / sub / f"{name}{suffix}")
            os.replace(self.staging / self.name, self.directory / self.name)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        return self.directory / self.name

    def discard(self) -> None:
        self.jsonl.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def read_records(directory: Path) -> list[dict]:
    """Every page record of a corpus directory (all its shard files), in index order."""
    records = []
    for path in sorted(Path(directory).glob(f"{STEM}*.jsonl")):
        with open(path, encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return sorted(records, key=lambda record: record["index"])
