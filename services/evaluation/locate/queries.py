"""The queries of the locate evaluation: seeded, the same for every locator.

A page record (the TokenIT engine's, or pdfpages') lists its words with their boxes in reading
order. From each page come

- single-word queries: words that occur once on the page (exactly, case and punctuation
  included, as drawn) with at least two letters or digits; the target is the word's box;
- multi-word queries: runs of 2 or 3 consecutive words on one text line (each with a letter or
  a digit) whose text occurs once on the page; the target is the union of their boxes.

Which words are drawn is a pure function of (seed, data set, page name); `--limit` takes the first
pages, so a short run asks a prefix of the same queries.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

SINGLE, MULTI = "single", "multi"
MIN_ALNUM = 2
PHRASE_WORDS = (2, 3)
# Two words are on one line when their vertical extents overlap by this share of the shorter
# one, and the gap between them is at most this many line heights.
LINE_OVERLAP = 0.5
MAX_GAP_HEIGHTS = 1.5

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Page:
    dataset: str
    name: str
    image: Path
    width: int
    height: int
    dpi: float | None
    words: tuple[tuple[str, Box], ...]


@dataclass(frozen=True)
class Query:
    dataset: str
    page: str
    text: str
    box: Box
    kind: str            # SINGLE | MULTI
    words: int


def pages_from_records(dataset: str, directory: Path, records: list[dict]) -> list[Page]:
    return [Page(dataset=dataset, name=record["name"], image=Path(directory) / record["image"],
                 width=int(record["width"]), height=int(record["height"]), dpi=record.get("dpi"),
                 words=tuple((word["text"], tuple(float(v) for v in word["box"])) for word in record["words"]))
            for record in records]


def alnum(text: str) -> int:
    return sum(char.isalnum() for char in text)


def union(boxes) -> Box:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def same_line(left: Box, right: Box) -> bool:
    """`right` follows `left` on one text line: vertical overlap, to its right, a word gap away."""
    overlap = min(left[3], right[3]) - max(left[1], right[1])
    shorter = min(left[3] - left[1], right[3] - right[1])
    if shorter <= 0 or overlap < LINE_OVERLAP * shorter or right[0] < left[2] - 0.25 * shorter:
        return False
    return right[0] - left[2] <= MAX_GAP_HEIGHTS * max(left[3] - left[1], right[3] - right[1])


def single_candidates(page: Page) -> list[Query]:
    counts = Counter(text for text, _ in page.words)
    return [Query(page.dataset, page.name, text, box, SINGLE, 1) for text, box in page.words
            if counts[text] == 1 and alnum(text) >= MIN_ALNUM]


def multi_candidates(page: Page, length: int) -> list[Query]:
    texts = [text for text, _ in page.words]
    runs = [tuple(texts[i:i + length]) for i in range(len(texts) - length + 1)]
    counts = Counter(runs)
    found = []
    for start, run in enumerate(runs):
        boxes = [box for _, box in page.words[start:start + length]]
        if counts[run] == 1 and all(alnum(text) >= 1 for text in run) \
                and all(same_line(a, b) for a, b in pairwise(boxes)):
            found.append(Query(page.dataset, page.name, " ".join(run), union(boxes), MULTI, length))
    return found


def sample(pages: list[Page], *, seed: int, single_per_page: int, multi_per_page: int) -> list[Query]:
    """Up to `single_per_page` single-word and `multi_per_page` multi-word queries of each page."""
    queries = []
    for page in pages:
        rng = random.Random(f"eval-locate/queries/{seed}/{page.dataset}/{page.name}")
        singles = single_candidates(page)
        queries += rng.sample(singles, min(single_per_page, len(singles)))
        chosen: set[str] = set()
        for _ in range(multi_per_page):
            length = rng.choice(PHRASE_WORDS)
            candidates = [q for q in multi_candidates(page, length) if q.text not in chosen] or \
                [q for n in PHRASE_WORDS for q in multi_candidates(page, n) if q.text not in chosen]
            if not candidates:
                break
            query = rng.choice(candidates)
            chosen.add(query.text)
            queries.append(query)
    return queries
