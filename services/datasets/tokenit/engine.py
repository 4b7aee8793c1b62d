"""One page of the corpus from (corpus seed, index) alone, so shards and resumed runs agree.

Page i uses `random.Random(page_seed(seed, i))` for everything: template, renderer (PIL or a
typeset PDF through pdfium), resolution, paper, fonts, text and augmentation.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image

from services.models.tokenfd.tokenizer import QueryTokenizer

from . import layouts
from . import tokens as token_masks
from .augment import augment
from .pdf import PdfCanvas
from .raster import PilCanvas

PDF_SHARE = 0.5                       # pages typeset as PDFs and rasterised by pdfium
DPI_RANGE = {"a4": (75, 150), "letter": (75, 150), "slide": (90, 160), "receipt": (120, 220)}
MAX_SIDE = 2200                       # pixels: a bound on one page's memory


def page_seed(corpus_seed: int, index: int) -> int:
    digest = hashlib.sha256(f"tokenit/{corpus_seed}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class Page:
    index: int
    name: str
    image: Image.Image
    labels: np.ndarray                 # (H, W) uint16 token label map
    words: list[token_masks.Word]
    tokens: list[token_masks.Token]
    meta: dict

    def record(self) -> dict:
        return {"index": self.index, "name": self.name, "width": self.image.width, "height": self.image.height,
                **self.meta,
                "words": [{"text": w.text, "box": [round(v, 1) for v in w.box]} for w in self.words],
                "tokens": [[t.id, t.word, *(round(v, 1) for v in t.box)] for t in self.tokens]}


def render_page(corpus_seed: int, index: int, tokenizer: QueryTokenizer, *, pdf_share: float = PDF_SHARE) -> Page:
    rng = random.Random(page_seed(corpus_seed, index))
    template = rng.choice(sorted(layouts.TEMPLATES))
    size_name, draw = layouts.TEMPLATES[template]
    width, height = layouts.PAGE_SIZES[size_name]
    if size_name == "receipt":
        height = rng.uniform(380, 700)
    backend = "pdf" if rng.random() < pdf_share else "pil"
    paper = rng.choice(layouts.PAPERS)
    canvas = (PdfCanvas if backend == "pdf" else PilCanvas)(width, height, background=paper)
    draw(canvas, rng)
    low, high = DPI_RANGE[size_name]
    dpi = min(rng.uniform(low, high), MAX_SIDE * 72 / max(width, height))
    rendered = canvas.render(dpi)
    words = token_masks.words_from_chars(rendered.chars)
    tokens = token_masks.tokenize_words(tokenizer, words)
    labels = token_masks.label_map(rendered.image.size, tokens)
    image, labels, applied = augment(rendered.image, labels, rng)
    if "rotate" in applied:   # boxes follow the rotated masks; words are their tokens' union
        kept, labels = token_masks.drawn_tokens(tokens, labels)
        words = [token_masks.Word(w.text, token_masks.union(t.box for t in kept if t.word == i) if any(
            t.word == i for t in kept) else w.box, ()) for i, w in enumerate(words)]
        tokens = kept
    meta = {"template": template, "renderer": backend, "dpi": round(dpi, 2), "fonts": rendered.fonts,
            "augment": applied}
    return Page(index=index, name=f"tokenit-{index:07d}-{template}", image=image, labels=labels, words=words,
                tokens=tokens, meta=meta)
