"""`percept-eval synth`: generate synthetic STEM programs, render them through the sandbox and
write triplets and/or a STEM2Code-Eval-format split (docs/data-engine.md).

    percept-eval synth [--out DIR] [--split DIR] [--count N] [--seed S] [--families a,b,...]
                       [--shard i/n] [--sandbox HOST:PORT] [--concurrency K] [--dpi D]

  --out DIR          triplets: DIR/triplets.jsonl (code, image, caption, family, seed) + DIR/images/
  --split DIR        a STEM2Code-Eval split: DIR/data.jsonl + DIR/images/ (services/codeperception/dataset.py)
                     (at least one of --out and --split)
  --count N          samples in the whole corpus (all shards together); default 100
  --seed S           corpus seed; the same seed gives the same bytes; default 0
  --families a,b     families to draw from, round-robin (default: all; see --list-families)
  --shard i/n        generate only shard i of n (0-based); default from JOB_COMPLETION_INDEX
                     (a Kubernetes Indexed Job) or the whole corpus
  --sandbox HOST:PORT  sandbox-runner (default PERCEPT_SYNTH_SANDBOX_URL)
  --concurrency K    renders in flight (default PERCEPT_SYNTH_RENDER_CONCURRENCY)
  --dpi D            image resolution (default PERCEPT_SYNTH_RENDER_DPI)
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from . import settings

    parser.add_argument("--out", default=None, help="triplets directory (JSONL + images)")
    parser.add_argument("--split", default=None, help="STEM2Code-Eval split directory (data.jsonl + images)")
    parser.add_argument("--count", type=int, default=100, help="samples in the whole corpus")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    parser.add_argument("--families", default="", help="comma-separated families (default: all)")
    parser.add_argument("--list-families", action="store_true", help="print the families and exit")
    parser.add_argument("--shard", default=None, help="i/n: this shard only (default: JOB_COMPLETION_INDEX)")
    parser.add_argument("--sandbox", default=None, help=f"sandbox-runner host:port ({settings.SANDBOX_URL.name})")
    parser.add_argument("--concurrency", type=int, default=None, help="renders in flight")
    parser.add_argument("--dpi", type=int, default=None, help="image resolution")


def run(args: argparse.Namespace) -> int:
    raise SystemExit("percept-eval synth: not implemented yet")
