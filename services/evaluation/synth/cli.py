"""`percept-eval synth`: generate synthetic STEM programs, render them through the sandbox-runner
and write code/image/caption triplets and/or a STEM2Code-Eval-format split (docs/data-engine.md).

    percept-eval synth [--out DIR] [--split DIR] [--count N] [--seed S] [--families a,b,...]
                       [--shard i/n] [--sandbox HOST:PORT] [--concurrency K] [--dpi D]
    percept-eval synth --merge [--out DIR] [--split DIR] [SHARD_DIR ...]
    percept-eval synth --list-families

  --out DIR            triplets: DIR/triplets.jsonl (index, family, seed, image, code, caption) + DIR/images/
  --split DIR          a STEM2Code-Eval split: DIR/data.jsonl + DIR/images/ (services/codeperception/dataset.py)
                       (at least one of --out and --split)
  --count N            samples in the whole corpus (all shards together); default 100
  --seed S             corpus seed; the same seed (and families, dpi) gives the same bytes; default 0
  --families a,b       families to draw from, round-robin (default: all; see --list-families)
  --shard i/n          only shard i of n (0-based): writes <stem>.shard-0000i-of-0000n.jsonl; default
                       from JOB_COMPLETION_INDEX and PERCEPT_EVAL_SHARD_COUNT (a Kubernetes Indexed Job),
                       else the whole corpus
  --merge              combine shard files into --out/triplets.jsonl and/or --split/data.jsonl (the bytes
                       of the unsharded run; refuses missing, overlapping or unfinished shards); renders
                       nothing. The shard files are looked for in the SHARD_DIRs (e.g. the Indexed Job's
                       /out/shard-*, their images are copied over), else in --out/--split themselves
  --sandbox HOST:PORT  sandbox-runner (default PERCEPT_SYNTH_SANDBOX_URL)
  --concurrency K      renders in flight (default PERCEPT_SYNTH_RENDER_CONCURRENCY)
  --dpi D              image resolution (default PERCEPT_SYNTH_RENDER_DPI: 300, the protocol's, as the harness
                       renders; a split at another DPI loses fidelity to resampling)
  --timeout S          wall-clock limit of one render (default PERCEPT_SYNTH_RENDER_TIMEOUT_S)

Exit status: 0 written; 1 a family program failed to render or the sandbox was unreachable
(nothing written); 2 bad arguments or settings.
"""
from __future__ import annotations

import argparse
import functools
from pathlib import Path

from services.evaluation.arguments import fail

MAX_CONCURRENCY = 256  # one thread per render in flight; more only waits in the sandbox's queue
_fail = functools.partial(fail, "percept-eval synth")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="triplets directory (JSONL + images)")
    parser.add_argument("--split", type=Path, default=None,
                        help="STEM2Code-Eval split directory (data.jsonl + images)")
    parser.add_argument("--count", type=int, default=100, help="samples in the whole corpus (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--families", default="", help="comma-separated families (default: all)")
    parser.add_argument("--list-families", action="store_true", help="print the families and exit")
    parser.add_argument("--shard", default=None,
                        help="i/n: this shard only (default: JOB_COMPLETION_INDEX/PERCEPT_EVAL_SHARD_COUNT)")
    parser.add_argument("--merge", action="store_true", help="combine shard files into the whole corpus")
    parser.add_argument("shard_dirs", nargs="*", type=Path, metavar="SHARD_DIR",
                        help="with --merge: directories holding the shard files (default: --out/--split)")
    parser.add_argument("--sandbox", default=None, help="sandbox-runner host:port (PERCEPT_SYNTH_SANDBOX_URL)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="renders in flight (PERCEPT_SYNTH_RENDER_CONCURRENCY)")
    parser.add_argument("--dpi", type=int, default=None, help="image resolution (PERCEPT_SYNTH_RENDER_DPI)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per render (PERCEPT_SYNTH_RENDER_TIMEOUT_S)")


def run(args: argparse.Namespace) -> int:
    from services.common.settings import SettingsError, host_and_port, load
    from services.evaluation.shards import Shard, ShardError

    from . import families, settings, writer
    from .engine import Plan, generate
    from .render import RenderFailed, SandboxUnavailable, TripletRenderer

    if args.list_families:
        for name, description in families.describe().items():
            print(f"{name:20} {description}")
        return 0
    if args.out is None and args.split is None:
        return _fail("give --out DIR (triplets), --split DIR (a STEM2Code-Eval split) or both", 2)
    if args.shard_dirs and not args.merge:
        return _fail("shard directories are for --merge", 2)
    if args.merge:
        try:
            for directory, stem in ((args.out, writer.TRIPLETS), (args.split, writer.SPLIT)):
                if directory is not None:
                    print(f"merged: {writer.merge(directory, stem, args.shard_dirs or None)}")
        except (ShardError, OSError, ValueError, KeyError) as error:
            return _fail(f"cannot merge: {error}", 1)
        return 0
    try:
        values = load(settings.COMPONENT)
        sandbox = args.sandbox or values[settings.SANDBOX_URL.name]
        host_and_port(sandbox)
        concurrency = args.concurrency or values[settings.RENDER_CONCURRENCY.name]
        dpi = args.dpi or values[settings.RENDER_DPI.name]
        timeout_s = args.timeout or values[settings.RENDER_TIMEOUT_S.name]
        if args.count < 1 or concurrency < 1 or dpi < 1 or timeout_s <= 0:
            raise ValueError("--count, --concurrency, --dpi and --timeout must be positive")
        if concurrency > MAX_CONCURRENCY:
            raise ValueError(f"--concurrency must be at most {MAX_CONCURRENCY} (renders queue in the sandbox pool)")
        shard = Shard.parse(args.shard) if args.shard else (Shard.from_env() or Shard.whole())
        plan = Plan(count=args.count, seed=args.seed, families=families.resolve(args.families), shard=shard)
    except (SettingsError, ShardError, ValueError) as error:
        return _fail(str(error), 2)
    try:
        with TripletRenderer(sandbox, dpi=dpi, timeout_s=timeout_s) as renderer:
            written = generate(plan, renderer, out=args.out, split=args.split, concurrency=concurrency)
    except (RenderFailed, SandboxUnavailable) as error:
        return _fail(f"{error}\nnothing was written", 1)
    for path in written:
        print(f"wrote {len(plan.indices())} samples (shard {plan.shard}, seed {plan.seed}): {path}")
    return 0
