"""`python -m services.evaluation.locate`: TokenFD's locate against an OCR peer (`make eval-locate`).

    python -m services.evaluation.locate run --checkpoint DIR [--synthetic DIR] [--pdf DIR] [--limit N]
        [--seed S] [--single-per-page N] [--multi-per-page N] [--threads T] [--ocr-threads T]
        [--repeats K] [--latency-queries M] [--threshold X] [--out DIR] [--write-docs] [--plumbing-only]
    python -m services.evaluation.locate report [--summary FILE] [--write-docs]
    python -m services.evaluation.locate pdf-pages --out DIR [--count N] [--seed S]

`run` answers the same seeded queries with TokenFD (the checkpoint, exported and run through the
serving path's locate pipeline in-process) and with Tesseract, on (a) the TokenIT engine's held-out
pages and (b) text-layer PDF pages typeset by reportlab (written by `pdf-pages`; `run` writes them
first when --pdf holds none). It writes every answer (`answers.jsonl`) and the figures
(`summary.json`) to --out and prints the report's Markdown; --write-docs also replaces the
report's section of docs/benchmarks.md and its plot docs/img/eval_locate.png. `report` writes the
report again from a run's summary.json (no locator runs).

A checkpoint with random weights (the tiny fixture, or --plumbing-only) is reported as
"fixture, plumbing only": its figures say nothing about the model.

Exit status: 0 done, 1 the run failed, 2 bad invocation (a missing checkpoint, data set or tesseract).
"""
from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import shlex
import sys
import tempfile
from pathlib import Path

from services.evaluation.arguments import fail, non_negative_int, positive_int
from services.models.tokenfd.mini import PUBLISHED_DIR, published_checkpoint

PROGRAM = "python -m services.evaluation.locate"
_fail = functools.partial(fail, PROGRAM)
# What `make models` serves without CHECKPOINT (the top-level Makefile): the trained TokenFD-mini where
# `make publish-tokenfd` put it (published_checkpoint), else the tiny seeded fixture it builds.
TINY_CHECKPOINT = Path("artifacts/checkpoints/tokenfd-tiny")
DEFAULT_SYNTHETIC = Path("artifacts/tokenit/heldout")
DEFAULT_PDF = Path("artifacts/eval-locate/pdf-pages")
DEFAULT_OUT = Path("artifacts/eval-locate/run")
DEFAULT_DOC = Path("docs/benchmarks.md")
DEFAULT_PLOT = Path("docs/img/eval_locate.png")


def _add_docs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write-docs", action="store_true", help="write the report into --doc and the plot")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC)
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT)


def _parser() -> argparse.ArgumentParser:
    from . import pdfpages

    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate TokenFD and Tesseract on the same queries")
    run.add_argument("--checkpoint", type=Path, default=None,
                     help=f"TokenFD checkpoint directory, upstream layout (default: the served default, "
                          f"{PUBLISHED_DIR} when it holds a checkpoint, else {TINY_CHECKPOINT})")
    run.add_argument("--synthetic", type=Path, default=DEFAULT_SYNTHETIC,
                     help=f"(a) the engine's held-out corpus (default: {DEFAULT_SYNTHETIC}; make data-tokenit)")
    run.add_argument("--pdf", type=Path, default=DEFAULT_PDF,
                     help=f"(b) the text-layer PDF pages (default: {DEFAULT_PDF}; written when absent)")
    run.add_argument("--pdf-count", type=positive_int, default=pdfpages.DEFAULT_COUNT,
                     help="pages of (b) to write when --pdf holds none")
    run.add_argument("--pdf-seed", type=int, default=pdfpages.DEFAULT_SEED)
    run.add_argument("--limit", type=positive_int, default=None, help="the first N pages of each data set")
    run.add_argument("--seed", type=int, default=0, help="query sampling seed")
    run.add_argument("--single-per-page", type=non_negative_int, default=3)
    run.add_argument("--multi-per-page", type=non_negative_int, default=2)
    run.add_argument("--threads", type=positive_int, default=2, help="ONNX Runtime intra-op threads")
    run.add_argument("--ocr-threads", type=positive_int, default=1, help="Tesseract's OMP_THREAD_LIMIT")
    run.add_argument("--repeats", type=positive_int, default=3, help="latency repeats")
    run.add_argument("--latency-queries", type=positive_int, default=10, help="queries per data set timed")
    run.add_argument("--threshold", type=float, default=None,
                     help="TokenFD's cosine threshold (default: the one the checkpoint records, else the "
                          "gateway's default)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"answers and summary (default: {DEFAULT_OUT})")
    _add_docs_arguments(run)
    run.add_argument("--plumbing-only", action="store_true",
                     help="mark the report as fixture figures (automatic for the tiny fixture checkpoint)")
    run.add_argument("--no-progress", action="store_true")

    again = sub.add_parser("report", help="the report again, from a run's summary.json")
    again.add_argument("--summary", type=Path, default=DEFAULT_OUT / "summary.json")
    _add_docs_arguments(again)

    pages = sub.add_parser("pdf-pages", help="typeset, render and read back the text-layer PDF pages")
    pages.add_argument("--out", type=Path, required=True)
    pages.add_argument("--count", type=positive_int, default=pdfpages.DEFAULT_COUNT)
    pages.add_argument("--seed", type=int, default=pdfpages.DEFAULT_SEED)
    pages.add_argument("--no-progress", action="store_true")
    return parser


def _shown(argument: str) -> str:
    """A path argument relative to the working directory (a report names no machine's paths)."""
    path = Path(argument)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return path.name
    return argument


def default_checkpoint() -> Path:
    return published_checkpoint() or TINY_CHECKPOINT


def reading_of(checkpoint: Path, given: float | None):
    """How the gateway reads the checkpoint's maps: (threshold, where it came from, decoding). The threshold
    is given, recorded with the checkpoint, or the gateway's; the decoding recorded, else upstream's."""
    from services.models.tokenfd.checkpoint import RECORD_FILE, read_record
    from services.models.tokenfd.config import UPSTREAM_THRESHOLD
    from services.models.tokenfd.query_matches import UPSTREAM

    recorded = read_record(checkpoint)
    decoding = recorded.decoding or UPSTREAM
    if given is not None:
        return given, "given", decoding
    if recorded.threshold is not None:
        return recorded.threshold, f"recorded in the checkpoint's {RECORD_FILE}", decoding
    return UPSTREAM_THRESHOLD, "the gateway's default for a checkpoint that records none, upstream's value", decoding


def _records(directory: Path) -> list[dict]:
    from services.datasets.tokenit.writer import read_records

    return read_records(directory)


def _versions() -> dict:
    from importlib.metadata import version

    from .locators import tesseract_version

    return {"python": platform.python_version(), "tesseract": tesseract_version(),
            **{name: version(name) for name in ("onnxruntime", "reportlab", "pypdfium2")}}


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from tqdm import tqdm

    from services.models.tokenfd.family import TINY_NAME

    from . import evaluate, pdfpages
    from .locators import TesseractLocator, TokenFDLocator, tesseract_binary
    from .queries import pages_from_records, sample

    if args.checkpoint is None:
        args.checkpoint = default_checkpoint()
    if not (args.checkpoint / "config.json").is_file():
        return _fail(f"{args.checkpoint} is not a TokenFD checkpoint directory (no config.json); "
                     "`make models` builds the default one")
    if tesseract_binary() is None:
        return _fail("tesseract is not installed: `make tesseract` (apt-get install tesseract-ocr)")
    if not _records(args.synthetic):
        return _fail(f"no held-out pages in {args.synthetic}: `make data-tokenit` writes them")
    if not _records(args.pdf):
        print(f"writing {args.pdf_count} text-layer PDF pages to {_shown(str(args.pdf))} ...", file=sys.stderr)
        pdfpages.write_pages(args.pdf, count=args.pdf_count, seed=args.pdf_seed, progress=not args.no_progress)

    datasets = {}
    pages = {}
    queries = []
    for name, directory in (("synthetic", args.synthetic), ("pdf", args.pdf)):
        records = _records(directory)[:args.limit]
        chosen = pages_from_records(name, directory, records)
        pages.update({f"{name}/{page.name}": page for page in chosen})
        queries += sample(chosen, seed=args.seed, single_per_page=args.single_per_page,
                          multi_per_page=args.multi_per_page)
        datasets[name] = {"pages": len(chosen), "source": _shown(str(directory))}
    if not queries:
        return _fail("the pages gave no queries")

    threshold, source, decoding = reading_of(args.checkpoint, args.threshold)
    load_average = os.getloadavg()[0]
    try:
        import torch

        torch.set_num_threads(args.threads)
        from services.models.tokenfd.export_onnx import export_artifacts

        with tempfile.TemporaryDirectory(prefix="eval-locate-") as export_dir:
            print(f"exporting {_shown(str(args.checkpoint))} ...", file=sys.stderr)
            exported = export_artifacts(args.checkpoint, export_dir)
            tokenfd = TokenFDLocator.from_export(export_dir, threshold=threshold, decoding=decoding,
                                                 threads=args.threads)
            ocr = TesseractLocator(threads=args.ocr_threads)
            total = len(queries) + 2 * args.repeats * sum(min(args.latency_queries, sum(
                q.dataset == name for q in queries)) for name in datasets)
            with tqdm(total=total, unit="query", desc="eval-locate", disable=args.no_progress,
                      file=sys.stderr) as bar:
                outcomes = evaluate.accuracy_pass(pages, queries, tokenfd, ocr, progress=bar.update)
                latency = evaluate.latency(pages, queries, tokenfd, ocr, per_dataset=args.latency_queries,
                                           repeats=args.repeats, seed=args.seed, progress=bar.update)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    except RuntimeError as exc:
        return _fail(str(exc), 1)

    locators = [tokenfd.name, ocr.name]
    summary = {
        "plumbing_only": bool(args.plumbing_only or args.checkpoint.resolve().name == TINY_NAME),
        "model": {"name": exported.metadata["name"], "model_id": exported.metadata["model_id"],
                  "threshold": threshold, "threshold_source": source, "decoding": decoding.to_json()},
        "locators": locators,
        "datasets": datasets,
        "settings": {"seed": args.seed, "limit": args.limit, "single_per_page": args.single_per_page,
                     "multi_per_page": args.multi_per_page, "threads": args.threads,
                     "ocr_threads": args.ocr_threads, "repeats": args.repeats,
                     "latency_queries": args.latency_queries},
        "metrics": evaluate.metrics(outcomes, locators),
        "latency": latency,
        "versions": _versions(),
        "measured": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": load_average,
        "command": " ".join([PROGRAM] + [shlex.quote(_shown(a)) for a in argv]),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "answers.jsonl", "w", encoding="utf-8") as lines:
        for outcome in outcomes:
            lines.write(json.dumps(outcome.row()) + "\n")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return _report(summary, args)


def _report(summary: dict, args: argparse.Namespace) -> int:
    from . import report

    plot_link = os.path.relpath(args.plot.resolve(), args.doc.resolve().parent)
    body = report.section(summary, plot_link)
    print(body)
    if args.write_docs:
        report.plot(summary, args.plot)
        report.write_section(args.doc, body)
        print(f"wrote {_shown(str(args.doc))} and {_shown(str(args.plot))}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.command == "report":
        if not args.summary.is_file():
            return _fail(f"{args.summary} does not exist: `run` writes it")
        return _report(json.loads(args.summary.read_text()), args)
    if args.command == "pdf-pages":
        from . import pdfpages

        path = pdfpages.write_pages(args.out, count=args.count, seed=args.seed, progress=not args.no_progress)
        print(path)
        return 0
    try:
        return run(args, argv)
    except KeyboardInterrupt:
        return 130
