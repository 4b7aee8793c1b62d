"""`make calibrate-tokenfd`: choose how a trained TokenFD-mini's maps are read, and record it with the model.

    python -m services.models.tokenfd.mini.calibrate CHECKPOINT --pages DIR [--crops-per-page N]
        [--queries-per-crop N] [--threads T]

On crops of a calibration corpus (an engine corpus of another seed than the training corpus and than the held-out
pages the evaluation reports on), at the scale the served tiling gives each page, words that occur once in their
crop are asked for, and as many words the crop does not hold. Each (threshold, decoding) of the grid below decodes
the same maps (query_matches.py): the maps' own regions, then the ink reading (word boxes of the crop's pixels
scored by the maps, by a one-word query's letters' maps, and by their likeness to the query drawn in print,
ink_words.py and word_shapes.py). The one whose best match hits the most present words (IoU >= 0.5) is written into
the checkpoint's record (tokenfd_mini.json: `threshold`, `decoding`, and `calibration`: the share of present words
hit and of absent words left without a match, for the choice and for upstream's reading at its best threshold, and
how well the chosen reading's best score tells a drawn word from an absent one, whatever the threshold:
`separation`, a ROC AUC). The export carries the threshold and decoding to the served model, where they are the
gateway's locate default. Ties go to upstream's reading, then to the higher threshold (as many hits, fewer matches
for words that are not there).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.models.tokenfd.box_geometry import iou
from services.models.tokenfd.checkpoint import RECORD_FILE, TOKENIZER_FILE
from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.query_matches import INK, PEAK, RANKINGS, UPSTREAM, Decoding, match_query

# The grid: thresholds where TokenFD-mini's calibrated ones have fallen (v1-v3: 0.20-0.30) and around,
# and cuts from none (upstream's) to 0.7 of a map's peak.
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(2, 10))       # 0.10 .. 0.45
PEAK_SHARES = (0.0, 0.4, 0.5, 0.6, 0.7)
# The ink reading's grid (query_matches.py, ink_words.py): the log aspect of a box per character
# (Latin print sits about there), how much the rank loses per unit of shape error, and how much of
# a token's span is read as its mean.
ASPECTS = (-0.6, -0.5, -0.4)
LENGTH_WEIGHTS = (0.03, 0.05, 0.08, 0.12)
SPAN_MEANS = (0.0, 0.25, 0.5)
# How much a one-word query's letters' reading adds to a candidate's rank (0: not spelled).
LETTER_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
# How much a candidate's likeness to the query drawn in print adds to its score (0: not compared; word_shapes.py).
LIKENESS_WEIGHTS = (0.0, 0.5, 1.0)
# A hit, as the training's held-out metric counts it too: the best match's IoU with the word's box.
HIT_IOU = 0.5
CELL_PX = TILE_SIZE / FEATURE_GRID          # pixels of a crop per feature cell
CROPS_PER_PAGE = 2
QUERIES_PER_CROP = 6


@dataclass(frozen=True)
class Query:
    maps: np.ndarray     # (tokens, grid, grid) cosine maps of the query's tokens over its crop
    box: tuple | None    # the word's box in crop pixels; None for a word the crop does not hold
    text: str = ""
    pieces: tuple = ()   # the query's pieces, one per map
    page: np.ndarray | None = None   # the crop's grey pixels (one array shared by its queries)
    letters: object = None           # a one-word query's letters (ink_words.Letters), as the gateway asks for them


def answered(query: Query, threshold: float, decoding: Decoding) -> bool:
    """A present word's best match hits it (IoU >= 0.5); an absent word gets no match."""
    best = match_query(query.maps, threshold, CELL_PX, max_matches=1, decoding=decoding)
    if query.box is None:
        return not best
    return bool(best) and iou(best[0].box, query.box) >= HIT_IOU


@dataclass(frozen=True)
class Calibration:
    threshold: float
    decoding: Decoding
    hit_rate: float                # present words whose best match hits them
    rejected: float                # absent words with no match at all
    upstream_threshold: float      # upstream's reading at its best threshold, for comparison
    upstream_hit_rate: float
    upstream_rejected: float
    queries: int                   # present words asked
    absent: int                    # absent words asked
    maps_hit_rate: float = 0.0     # the maps' best reading, for comparison when the ink's is chosen
    separation: float | None = None  # the ink reading's `separation` at the chosen decoding

    def record(self, pages: Path) -> dict:
        return {"threshold": self.threshold, "decoding": self.decoding.to_json(),
                "calibration": {"pages": pages.name, "queries": self.queries, "absent_queries": self.absent,
                                "hit@0.5": round(self.hit_rate, 4), "absent_unmatched": round(self.rejected, 4),
                                "maps_hit@0.5": round(self.maps_hit_rate, 4),
                                **({"separation": round(self.separation, 4)}
                                   if self.separation is not None and math.isfinite(self.separation) else {}),
                                "upstream": {"threshold": self.upstream_threshold,
                                             "hit@0.5": round(self.upstream_hit_rate, 4),
                                             "absent_unmatched": round(self.upstream_rejected, 4)}}}


def absent_words(crops: list, number: int, count: int) -> list[str]:
    """`count` words crop `number` does not hold: the queries of the crops after it, in turn."""
    from services.models.tokenfd.mini.data import single_word_queries

    drawn, found = {text for text, _ in crops[number].words}, []
    for other in crops[number + 1:] + crops[:number]:
        for text, _ in single_word_queries(other):
            if text not in drawn and text not in found:
                found.append(text)
                if len(found) == count:
                    return found
    return found


def grey(pixels: np.ndarray) -> np.ndarray:
    """A normalised (3, H, W) tile's grey pixels, as the gateway reads a page's (ink_words.grey): the tile's
    8-bit RGB image through PIL's "L"."""
    from PIL import Image

    from services.models.common.tiling import IMAGENET_MEAN, IMAGENET_STD
    from services.models.tokenfd import ink_words

    rgb = pixels.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    return ink_words.grey(Image.fromarray(np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8), mode="RGB"))


def queries(checkpoint: Path, pages: Path, *, crops_per_page: int = CROPS_PER_PAGE,
            queries_per_crop: int = QUERIES_PER_CROP, progress: bool = True) -> list[Query]:
    """The calibration queries' maps, from the checkpoint as the loader reads it (torch, on CPU)."""
    import torch
    from tqdm import tqdm

    from services.models.tokenfd import ink_words
    from services.models.tokenfd.checkpoint import load_model
    from services.models.tokenfd.mini.data import Corpus, single_word_queries
    from services.models.tokenfd.modeling import cosine_maps
    from services.models.tokenfd.tokenizer import QueryTokenizer

    model, _ = load_model(checkpoint)
    model.eval()
    tokenizer = QueryTokenizer.from_file(Path(checkpoint) / TOKENIZER_FILE)
    corpus = Corpus(pages)
    found = []
    crops = [corpus.crop(random.Random(f"calibrate/{index}/{repeat}"), index=index, jitter=False)
             for index in range(len(corpus)) for repeat in range(crops_per_page)]
    with torch.no_grad():
        for number, crop in enumerate(tqdm(crops, unit="crop", desc="calibrate", disable=not progress,
                                           file=sys.stderr)):
            words = single_word_queries(crop)[:queries_per_crop]
            if not words:
                continue
            absent = [(text, None) for text in absent_words(crops, number, len(words))]
            features = model.tile_features(crop.pixels.unsqueeze(0))
            page = grey(crop.pixels.numpy())
            for text, box in words + absent:
                ids, pieces = tokenizer.encode_query(text)
                letter_ids, letter_pieces = tokenizer.spell(text)
                embeddings = model.embed_tokens(torch.tensor(ids + letter_ids)).unsqueeze(0)
                maps = cosine_maps(features, embeddings, FEATURE_GRID)[0].numpy()
                letters = ink_words.Letters(maps[len(ids):], tuple(letter_pieces)) if letter_ids else None
                found.append(Query(maps[:len(ids)], None if box is None else tuple(box), text, tuple(pieces), page,
                                   letters))
    return found


def share(answers) -> float:
    answers = list(answers)
    return sum(answers) / len(answers) if answers else 0.0


def share_answered(found: list[Query], threshold: float, decoding: Decoding) -> float:
    return share(answered(query, threshold, decoding) for query in found)


@dataclass(frozen=True)
class InkQuery:
    """A query's readings of its crop's word boxes (ink_words.read), and which of them hit its word."""
    readings: object           # ink_words.Readings
    hits: np.ndarray | None    # (N,) bool, IoU >= HIT_IOU with the word's box; None for an absent word


def ink_queries(found: list[Query]) -> list[InkQuery]:
    """Every query's readings, over the shapes any aspect of the grid may keep (the crops' word boxes found once)."""
    from services.models.tokenfd import ink_words

    boxes: dict[tuple[int, int], np.ndarray] = {}
    inks: dict[int, ink_words.PageInk] = {}
    within = (min(ASPECTS) - ink_words.MAX_SHAPE_ERROR, max(ASPECTS) + ink_words.MAX_SHAPE_ERROR)
    read = []
    for query in found:
        if id(query.page) not in inks:        # a crop's queries share its pixels: its ink is found once
            inks[id(query.page)] = ink_words.PageInk.of(query.page)
        page = inks[id(query.page)]
        key = (id(query.page), ink_words.query_words(query.text))
        if key not in boxes:
            boxes[key] = ink_words.word_boxes(page, (CELL_PX, CELL_PX), key[1])
        readings = ink_words.read(query.maps, query.pieces, query.text, boxes[key], (CELL_PX, CELL_PX), within,
                                  query.letters, page.ink)
        hits = None if query.box is None else \
            np.array([iou(tuple(box), query.box) >= HIT_IOU for box in readings.boxes], dtype=bool)
        read.append(InkQuery(readings, hits))
    return read


def _ranked(readings, threshold: float, decoding: Decoding) -> tuple[np.ndarray, np.ndarray]:
    """ink_words.ranked at the decoding's numbers: (the kept candidates best first, every candidate's score)."""
    from services.models.tokenfd import ink_words

    order, scores, _ = ink_words.ranked(readings, threshold, aspect=decoding.aspect,
                                        length_weight=decoding.length_weight, span_mean=decoding.span_mean,
                                        letter_weight=decoding.letters, likeness_weight=decoding.likeness)
    return order, scores


def ink_answered(query: InkQuery, threshold: float, decoding: Decoding) -> bool:
    """As `answered`, for the ink reading: the best candidate (ink_words.ranked, the decoding's numbers) hits
    a present word; an absent word has none."""
    order, _ = _ranked(query.readings, threshold, decoding)
    if query.hits is None:
        return len(order) == 0
    return len(order) > 0 and bool(query.hits[order[0]])


def best_scores(read: list[InkQuery], decoding: Decoding) -> np.ndarray:
    """Each query's best candidate's score at the decoding, whatever the threshold (-inf: no candidate)."""
    best = []
    for query in read:
        order, scores = _ranked(query.readings, -math.inf, decoding)
        best.append(scores[order[0]] if len(order) else -math.inf)
    return np.array(best, dtype=np.float64)


def separation(present: np.ndarray, absent: np.ndarray) -> float:
    """The chance that a present word's best score is above an absent word's (ties count half): the area under
    the ROC curve of "is the word there?" read from the best match's score. 0.5 is chance, 1 a threshold that
    tells every drawn word from every absent one."""
    if not len(present) or not len(absent):
        return float("nan")
    above = (present[:, None] > absent[None, :]).mean()
    return float(above + 0.5 * (present[:, None] == absent[None, :]).mean())


def robust_choice(rates: dict, queries: int):
    """The ink setting to record: among those within one standard error of the best hit rate (as good as it on
    these crops), the one that reads most of each span (the highest `span_mean`), then the most hits, then the
    higher threshold. A crop holds a fraction of a page's words, and a span's peak is the reading that more
    competing words inflate most (the largest of more noise): on a whole page a reading of the mean holds up
    better (docs/tokenfd-mini.md, "Reading the ink")."""
    best = max(rates.values())
    within = best - math.sqrt(best * (1.0 - best) / max(1, queries))
    return max((setting for setting, rate in rates.items() if rate >= within),
               key=lambda setting: (setting[1].span_mean, rates[setting], setting[0]))


def calibrate(found: list[Query]) -> Calibration:
    """The grid's best (threshold, decoding) for the present words; ValueError when there are none.

    The maps' readings first (thresholds x peak shares x ranks); then, when the queries carry their crops'
    pixels, the ink reading's grid (thresholds x aspects x length weights x span means x letter weights x
    likeness weights, keeping the maps' best peak share and rank for the tokens' own boxes; `robust_choice` picks
    among its best). The ink reading is chosen when it hits more."""
    present = [query for query in found if query.box is not None]
    absent = [query for query in found if query.box is None]
    if not present:
        raise ValueError("the calibration pages gave no queries")
    rates = {(threshold, Decoding(share_, rank)): share_answered(present, threshold, Decoding(share_, rank))
             for threshold, share_, rank in itertools.product(THRESHOLDS, PEAK_SHARES, RANKINGS)}

    def preference(setting):  # more hits; then upstream's reading (no cut, by peak); then the higher threshold
        (threshold, decoding), rate = setting, rates[setting]
        return rate, decoding == UPSTREAM, decoding.rank == PEAK, -decoding.peak_share, threshold

    chosen = max(rates, key=preference)
    upstream = max((setting for setting in rates if setting[1] == UPSTREAM), key=preference)
    rate, rejected = rates[chosen], share_answered(absent, *chosen)
    maps_rate, separated = rate, None
    if all(query.page is not None for query in found):
        read = ink_queries(found)
        ink_present = [query for query in read if query.hits is not None]
        ink_absent = [query for query in read if query.hits is None]
        ink_rates = {}
        for threshold, aspect, weight, span_mean, letters, likeness in itertools.product(
                THRESHOLDS, ASPECTS, LENGTH_WEIGHTS, SPAN_MEANS, LETTER_WEIGHTS, LIKENESS_WEIGHTS):
            decoding = Decoding(chosen[1].peak_share, chosen[1].rank, boxes=INK, aspect=aspect,
                                length_weight=weight, span_mean=span_mean, letters=letters, likeness=likeness)
            ink_rates[(threshold, decoding)] = share(ink_answered(q, threshold, decoding) for q in ink_present)
        best = robust_choice(ink_rates, len(ink_present))
        if ink_rates[best] > rate:
            chosen, rate = best, ink_rates[best]
            rejected = share(ink_answered(q, *best) for q in ink_absent)
            separated = separation(best_scores(ink_present, best[1]), best_scores(ink_absent, best[1]))
    return Calibration(threshold=chosen[0], decoding=chosen[1], hit_rate=rate, rejected=rejected,
                       upstream_threshold=upstream[0], upstream_hit_rate=rates[upstream],
                       upstream_rejected=share_answered(absent, *upstream), queries=len(present),
                       absent=len(absent), maps_hit_rate=maps_rate, separation=separated)


def write(checkpoint: Path, calibration: Calibration, pages: Path) -> None:
    """Merge the calibration into the checkpoint's record (its other entries stay)."""
    path = Path(checkpoint) / RECORD_FILE
    record = json.loads(path.read_text()) if path.is_file() else {}
    record.update(calibration.record(pages))
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.models.tokenfd.mini.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a TokenFD-mini checkpoint (upstream layout)")
    parser.add_argument("--pages", type=Path, required=True, help="the calibration corpus (an engine corpus)")
    parser.add_argument("--crops-per-page", type=int, default=CROPS_PER_PAGE)
    parser.add_argument("--queries-per-crop", type=int, default=QUERIES_PER_CROP)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if min(args.crops_per_page, args.queries_per_crop, args.threads) < 1:
        print("calibrate: --crops-per-page, --queries-per-crop and --threads must be positive", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    try:
        found = queries(args.checkpoint, args.pages, crops_per_page=args.crops_per_page,
                        queries_per_crop=args.queries_per_crop, progress=not args.no_progress)
        calibration = calibrate(found)
    except (FileNotFoundError, ValueError) as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 1
    write(args.checkpoint, calibration, args.pages)
    c = calibration
    print(f"{args.checkpoint}: threshold {c.threshold}, decoding {c.decoding.to_json()}: hit@0.5 {c.hit_rate:.3f} "
          f"of {c.queries} words, {c.rejected:.3f} of {c.absent} absent words unmatched (upstream's reading at "
          f"threshold {c.upstream_threshold}: {c.upstream_hit_rate:.3f}, {c.upstream_rejected:.3f})"
          + (f"; drawn and absent words separated {c.separation:.3f} (ROC AUC of the best score)"
             if c.separation is not None and math.isfinite(c.separation) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
