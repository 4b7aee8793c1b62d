"""Writing a shard of pages: JSONL records, images and token label maps, staged then moved.

    DIR/pages.jsonl                         the whole corpus (no --shard), or
    DIR/pages.shard-00002-of-00008.jsonl    shard 2 of 8 (readers take every pages*.jsonl of DIR)
    DIR/images/tokenit-0000012-invoice.jpg  the page (JPEG, quality 92)
    DIR/masks/tokenit-0000012-invoice.png   16-bit label map: pixel k+1 = token k of the record

One JSONL line per page (engine.Page.record): index, name, size, template, renderer, dpi, fonts,
augmentations, words (text, box) and tokens ([id, word, x0, y0, x1, y1], pixels). Files are
written under a staging directory and moved into place once the shard's last page is done, the
JSONL last, so a killed run leaves no partial JSONL; the next run of that shard removes its
leftovers (services/evaluation/staging.py, shared with the STEM data engine).
"""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from services.evaluation.shards import Shard
from services.evaluation.staging import StagedJsonl

from .engine import Page

STEM = "pages"
IMAGES, MASKS = "images", "masks"
JPEG_QUALITY = 92


class StagedShard:
    """A shard's pages, staged until `commit()` (services/evaluation/staging.py)."""

    def __init__(self, directory: Path, shard: Shard) -> None:
        self.staged = StagedJsonl(directory, STEM, shard, (IMAGES, MASKS))

    def add(self, page: Page, extra: dict) -> None:
        image, mask = f"{page.name}.jpg", f"{page.name}.png"
        page.image.save(self.staged.file(IMAGES, image), quality=JPEG_QUALITY)
        Image.fromarray(page.labels).save(self.staged.file(MASKS, mask))
        self.staged.write_line({**page.record(), **extra, "image": f"{IMAGES}/{image}", "mask": f"{MASKS}/{mask}"})

    def commit(self) -> Path:
        return self.staged.commit()

    def discard(self) -> None:
        self.staged.discard()


def read_records(directory: Path) -> list[dict]:
    """Every page record of a corpus directory (all its shard files), in index order."""
    records = []
    for path in sorted(Path(directory).glob(f"{STEM}*.jsonl")):
        with open(path, encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return sorted(records, key=lambda record: record["index"])
