"""`python -m services.datasets.tokenit`: render a TokenIT-style corpus of document pages with
a pixel mask for every token (docs/tokenfd-mini.md).

    python -m services.datasets.tokenit --out DIR [--count N] [--seed S] [--shard i/n]
                                        [--tokenizer PATH] [--pdf-share P]

  --out DIR         pages.jsonl (or pages.shard-*.jsonl), images/, masks/ (services/datasets/tokenit/writer.py)
  --count N         pages in the whole corpus (all shards together); default 100
  --seed S          corpus seed: the same seed, tokenizer and fonts give the same pages; default 0
  --shard i/n       only pages i, i+n, ... (default from JOB_COMPLETION_INDEX/PERCEPT_EVAL_SHARD_COUNT)
  --tokenizer PATH  the sentencepiece model whose tokens get masks; trained from the corpus and written
                    there when missing (default DIR/tokenizer.model)
  --pdf-share P     share of pages typeset as PDFs and rasterised by pdfium (default 0.5)

Exit status: 0 written; 2 bad arguments.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="corpus directory")
    parser.add_argument("--count", type=int, default=100, help="pages in the whole corpus (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--shard", default=None, help="i/n: this shard only")
    parser.add_argument("--tokenizer", type=Path, default=None,
                        help="sentencepiece model (default DIR/tokenizer.model)")
    parser.add_argument("--pdf-share", type=float, default=None, help="share of pdfium-rendered PDF pages")


def generate(out: Path, *, count: int, seed: int, shard, tokenizer_path: Path, pdf_share: float,
             progress: bool = True) -> Path:
    from services.models.tokenfd.tokenizer import QueryTokenizer

    from . import fonts, tokenizer
    from .engine import render_page
    from .writer import StagedShard

    logging.getLogger("fontTools").setLevel(logging.ERROR)   # fpdf2's font subsetting is chatty
    tokenizer.ensure(tokenizer_path)
    query_tokenizer = QueryTokenizer.from_file(tokenizer_path)
    extra = {"seed": seed, "tokenizer": hashlib.sha256(tokenizer_path.read_bytes()).hexdigest()[:12],
             "font_set": fonts.fingerprint(fonts.faces())}
    indices = shard.indices(count)
    staged = StagedShard(out, shard)
    try:
        from tqdm import tqdm

        for index in tqdm(indices, unit="page", disable=not progress, file=sys.stderr, mininterval=2.0):
            staged.add(render_page(seed, index, query_tokenizer, pdf_share=pdf_share), extra)
    except BaseException:
        staged.discard()
        raise
    return staged.commit()


def run(args: argparse.Namespace) -> int:
    from services.evaluation.shards import Shard, ShardError

    from .engine import PDF_SHARE

    pdf_share = PDF_SHARE if args.pdf_share is None else args.pdf_share
    try:
        if args.count < 1:
            raise ValueError("--count must be positive")
        if not 0.0 <= pdf_share <= 1.0:
            raise ValueError("--pdf-share must be between 0 and 1")
        shard = Shard.parse(args.shard) if args.shard else (Shard.from_env() or Shard.whole())
    except (ShardError, ValueError) as error:
        print(f"tokenit: {error}", file=sys.stderr)
        return 2
    path = generate(args.out, count=args.count, seed=args.seed, shard=shard,
                    tokenizer_path=args.tokenizer or args.out / "tokenizer.model", pdf_share=pdf_share)
    print(f"wrote {len(shard.indices(args.count))} pages (shard {shard}, seed {args.seed}): {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.datasets.tokenit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))
