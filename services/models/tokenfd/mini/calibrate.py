"""`make calibrate-tokenfd`: choose how a trained TokenFD-mini's maps are read, and record it with the model.

    python -m services.models.tokenfd.mini.calibrate CHECKPOINT --pages DIR [--crops-per-page N]
        [--queries-per-crop N] [--threads T]

On crops of a calibration corpus (an engine corpus of another seed than the training corpus and than the
held-out pages the evaluation reports on), at the scale the served tiling gives each page, words that occur
once in their crop are asked for, and as many words the crop does not hold. Each (threshold, decoding) of the
grid below decodes the same maps (query_matches.py), and the one whose best match hits the most present words
(IoU >= 0.5) is written into the checkpoint's record (tokenfd_mini.json: `threshold`, `decoding`, and
`calibration`: the share of present words hit and of absent words left without a match, for the choice and for
upstream's reading at its best threshold). The export carries both to the served model, where they are the
gateway's locate default. Ties go to upstream's reading, then to the higher threshold (as many hits, fewer
matches for words that are not there).
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.models.tokenfd.checkpoint import RECORD_FILE, TOKENIZER_FILE
from services.models.tokenfd.config import FEATURE_GRID, TILE_SIZE
from services.models.tokenfd.query_matches import PEAK, RANKINGS, UPSTREAM, Decoding, iou, match_query

# The grid: thresholds where TokenFD-mini's calibrated ones have fallen (v1-v3: 0.20-0.30) and around,
# and cuts from none (upstream's) to 0.7 of a map's peak.
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(2, 10))       # 0.10 .. 0.45
PEAK_SHARES = (0.0, 0.4, 0.5, 0.6, 0.7)
# A hit, as the training's held-out metric counts it too: the best match's IoU with the word's box.
HIT_IOU = 0.5
CELL_PX = TILE_SIZE / FEATURE_GRID          # pixels of a crop per feature cell
CROPS_PER_PAGE = 2
QUERIES_PER_CROP = 6


@dataclass(frozen=True)
class Query:
    maps: np.ndarray     # (tokens, grid, grid) cosine maps of the query's tokens over its crop
    box: tuple | None    # the word's box in crop pixels; None for a word the crop does not hold


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

    def record(self, pages: Path) -> dict:
        return {"threshold": self.threshold, "decoding": self.decoding.to_json(),
                "calibration": {"pages": pages.name, "queries": self.queries, "absent_queries": self.absent,
                                "hit@0.5": round(self.hit_rate, 4), "absent_unmatched": round(self.rejected, 4),
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


def queries(checkpoint: Path, pages: Path, *, crops_per_page: int = CROPS_PER_PAGE,
            queries_per_crop: int = QUERIES_PER_CROP, progress: bool = True) -> list[Query]:
    """The calibration queries' maps, from the checkpoint as the loader reads it (torch, on CPU)."""
    import torch
    from tqdm import tqdm

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
            for text, box in words + absent:
                ids, _ = tokenizer.encode_query(text)
                embeddings = model.embed_tokens(torch.tensor(ids)).unsqueeze(0)
                found.append(Query(cosine_maps(features, embeddings, FEATURE_GRID)[0].numpy(),
                                   None if box is None else tuple(box)))
    return found


def share_answered(found: list[Query], threshold: float, decoding: Decoding) -> float:
    return sum(answered(query, threshold, decoding) for query in found) / len(found) if found else 0.0


def calibrate(found: list[Query]) -> Calibration:
    """The grid's best (threshold, decoding) for the present words; ValueError when there are none."""
    present = [query for query in found if query.box is not None]
    absent = [query for query in found if query.box is None]
    if not present:
        raise ValueError("the calibration pages gave no queries")
    rates = {(threshold, Decoding(share, rank)): share_answered(present, threshold, Decoding(share, rank))
             for threshold, share, rank in itertools.product(THRESHOLDS, PEAK_SHARES, RANKINGS)}

    def preference(setting):  # more hits; then upstream's reading (no cut, by peak); then the higher threshold
        (threshold, decoding), rate = setting, rates[setting]
        return rate, decoding == UPSTREAM, decoding.rank == PEAK, -decoding.peak_share, threshold

    chosen = max(rates, key=preference)
    upstream = max((setting for setting in rates if setting[1] == UPSTREAM), key=preference)
    return Calibration(threshold=chosen[0], decoding=chosen[1], hit_rate=rates[chosen],
                       rejected=share_answered(absent, *chosen), upstream_threshold=upstream[0],
                       upstream_hit_rate=rates[upstream], upstream_rejected=share_answered(absent, *upstream),
                       queries=len(present), absent=len(absent))


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
          f"threshold {c.upstream_threshold}: {c.upstream_hit_rate:.3f}, {c.upstream_rejected:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
