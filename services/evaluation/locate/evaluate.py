"""One evaluation run: every query answered by every locator, then the latency repeats.

Accuracy pass: each query once per locator. TokenFD runs a whole locate per query (the gateway
encodes the page for every request); Tesseract reads each page once and answers all its queries
from those words (re-reading would give the same words), and each query is charged the page's
reading time plus its own search, which is what the query would cost alone.

Latency repeats: a seeded sample of queries of each data set, answered `repeats` times in turn
by each locator from scratch (Tesseract reads the page again for every query). Each repeat gives
the median seconds per query; the report gives the median of those with their min-max.

Metrics per data set, query kind and locator: hit@0.5 (the best match's IoU with the target is at
least 0.5; a query with no answer is a miss), mean IoU (0 for no answer), and the share answered.
"""
from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from .locators import Answer, TesseractLocator, TokenFDLocator
from .queries import MULTI, SINGLE, Box, Page, Query

HIT_IOU = 0.5
TOKEN_BUCKETS = ("1", "2", "3+")


def iou(a: Box | None, b: Box) -> float:
    if a is None:
        return 0.0
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


@dataclass
class Outcome:
    query: Query
    tokens: int                          # pieces of TokenFD's tokenizer
    answers: dict[str, Answer] = field(default_factory=dict)

    def iou(self, locator: str) -> float:
        return iou(self.answers[locator].box, self.query.box)

    def row(self) -> dict:
        return {**asdict(self.query), "tokens": self.tokens,
                "answers": {name: {**asdict(answer), "iou": round(self.iou(name), 4)}
                            for name, answer in self.answers.items()}}


def token_bucket(tokens: int) -> str:
    return TOKEN_BUCKETS[min(tokens, 3) - 1]


def accuracy_pass(pages: dict[str, Page], queries: Sequence[Query], tokenfd: TokenFDLocator,
                  ocr: TesseractLocator, progress: Callable[[int], None] = lambda _: None) -> list[Outcome]:
    outcomes = []
    cached: tuple[Page, list, float] | None = None      # the last page Tesseract read
    for query in queries:
        page = pages[f"{query.dataset}/{query.page}"]
        outcome = Outcome(query, tokenfd.tokens(query.text))
        outcome.answers[tokenfd.name] = tokenfd.locate(page, query.text)
        if cached is None or cached[0] is not page:
            start = time.perf_counter()
            words = ocr.read(page)
            cached = (page, words, time.perf_counter() - start)
        outcome.answers[ocr.name] = ocr.locate(page, query.text, words=cached[1], read_seconds=cached[2])
        outcomes.append(outcome)
        progress(1)
    return outcomes


def metrics(outcomes: Sequence[Outcome], locators: Sequence[str]) -> list[dict]:
    """One row per (data set, kind, locator), and per single-word token bucket."""
    rows = []
    datasets = list(dict.fromkeys(o.query.dataset for o in outcomes))
    groups = [(dataset, kind, None) for dataset in datasets for kind in (SINGLE, MULTI)]
    groups += [(dataset, SINGLE, bucket) for dataset in datasets for bucket in TOKEN_BUCKETS]
    for dataset, kind, bucket in groups:
        chosen = [o for o in outcomes if o.query.dataset == dataset and o.query.kind == kind
                  and (bucket is None or token_bucket(o.tokens) == bucket)]
        for name in locators:
            ious = [o.iou(name) for o in chosen]
            rows.append({"dataset": dataset, "kind": kind, "tokens": bucket or "all", "locator": name,
                         "queries": len(chosen),
                         "hit": sum(v >= HIT_IOU for v in ious) / len(ious) if ious else None,
                         "mean_iou": statistics.fmean(ious) if ious else None,
                         "answered": (sum(o.answers[name].box is not None for o in chosen) / len(chosen)
                                      if chosen else None)})
    return rows


def latency(pages: dict[str, Page], queries: Sequence[Query], tokenfd: TokenFDLocator, ocr: TesseractLocator,
            *, per_dataset: int, repeats: int, seed: int,
            progress: Callable[[int], None] = lambda _: None) -> list[dict]:
    """Seconds per query: per data set and locator, the median of each repeat's median."""
    rows = []
    for dataset in dict.fromkeys(q.dataset for q in queries):
        pool = [q for q in queries if q.dataset == dataset]
        sample = random.Random(f"eval-locate/latency/{seed}/{dataset}").sample(pool, min(per_dataset, len(pool)))
        per_repeat: dict[str, list[float]] = {tokenfd.name: [], ocr.name: []}
        for _ in range(repeats):
            for locator in (tokenfd, ocr):
                seconds = [locator.locate(pages[f"{q.dataset}/{q.page}"], q.text).seconds for q in sample]
                per_repeat[locator.name].append(statistics.median(seconds))
                progress(len(sample))
        for name, values in per_repeat.items():
            rows.append({"dataset": dataset, "locator": name, "queries": len(sample), "repeats": repeats,
                         "median_s": statistics.median(values), "low_s": min(values), "high_s": max(values),
                         "per_repeat_s": values})
    return rows
