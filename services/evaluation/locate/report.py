"""The evaluation's report: a Markdown section of docs/benchmarks.md (its own block, replaced in place
on a rerun, appended when absent) and a plot under docs/img."""
from __future__ import annotations

from pathlib import Path

from ..docs_block import markers, save_plot, write_block
from .queries import MULTI, SINGLE

BLOCK = "eval-locate"     # its markers: <!-- eval-locate:start --> ... <!-- eval-locate:end -->
START, END = markers(BLOCK)
PLOT_NAME = "eval_locate.png"
DATASET_TITLES = {"synthetic": "(a) held-out synthetic pages", "pdf": "(b) text-layer PDF pages"}
SHORT_TITLES = {"synthetic": "(a) held-out synthetic", "pdf": "(b) text-layer PDF"}
KIND_TITLES = {SINGLE: "single word", MULTI: "multi-word"}
PLUMBING_BANNER = ("**Fixture, plumbing only.** The TokenFD figures below come from a checkpoint with random "
                   "weights: they show that the evaluation runs end to end, nothing about TokenFD's quality. "
                   "The OCR peer's figures are real.")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _seconds(row: dict) -> str:
    return f"{row['median_s']:.3f} ({row['low_s']:.3f}–{row['high_s']:.3f})"


def _decoding(model: dict) -> str:
    """The decoding the run read the maps with (a summary written before it was recorded: upstream's)."""
    from services.models.tokenfd.query_matches import INK, UPSTREAM, Decoding

    decoding = Decoding.from_json(model["decoding"]) if model.get("decoding") else UPSTREAM
    if decoding == UPSTREAM:
        return "reading the maps as upstream does (every cell above the threshold, ranked by peak)"
    if decoding.boxes == INK:
        likeness = (f" plus {decoding.likeness:g} x the box's likeness to the query drawn in print"
                    if decoding.likeness else "")
        letters = (f", plus {decoding.letters:g} x the reading of a one-word query's letters' maps, each in its "
                   "letter's share of the box" if decoding.letters else "")
        return ("reading the maps as the checkpoint records: matches are the page's word boxes (its ink), each "
                f"token's map read in its share of the box{likeness}, ranked by that reading less "
                f"{decoding.length_weight:g} x the box's distance from the query's shape (aspect "
                f"{decoding.aspect:g}, span mean {decoding.span_mean:g}){letters}")
    return (f"reading the maps as the checkpoint records (regions drawn at {decoding.peak_share:g} of their map's "
            f"peak, ranked by {decoding.rank})")


def section(summary: dict, plot_path: str) -> str:
    """The Markdown between the markers (heading included)."""
    s = summary["settings"]
    locators = summary["locators"]
    lines = ["## Text location: TokenFD against an OCR peer", ""]
    if summary["plumbing_only"]:
        lines += [f"> {PLUMBING_BANNER}", ""]
    lines += [
        "The same queries, on the same page images, answered by TokenFD's locate path and by an OCR engine "
        "(`services/evaluation/locate`, docs of the method in its modules):",
        "",
        f"- **TokenFD**: checkpoint `{summary['model']['name']}` (model id `{summary['model']['model_id']}`), "
        "exported by the project's export and run in-process through the serving path's locate pipeline "
        "(decode, tiling, tokenizer, encoder in ONNX Runtime, stitching) and the gateway's whole-query decoder "
        f"(`match_query`) at threshold {summary['model']['threshold']:.3f} "
        f"({summary['model']['threshold_source']}), {_decoding(summary['model'])}; its best match is its answer.",
        f"- **Tesseract** ({summary['versions']['tesseract']}, Debian's package, `--psm 3`, English, TSV words): "
        "the query's words found among the OCR's words (exact, case-sensitive; a multi-word query as consecutive "
        "words of one line), their union box.",
        "",
        "Data: " + "; ".join(f"{DATASET_TITLES[name]}: {d['pages']} pages from `{d['source']}`"
                             for name, d in summary["datasets"].items()) + ". "
        "(a) is the TokenIT engine's held-out split (`make data-tokenit`, another seed than training); (b) is "
        "typeset by reportlab, a tool the training renderers (PIL, fpdf2) are not, from prose the engine does not "
        "train on (IDLE's guide and Python's licence), rendered at 110 dpi by pypdfium2, with the word boxes "
        "of the PDF's own text layer as ground truth.",
        "",
        f"Queries (seed {s['seed']}): per page up to {s['single_per_page']} single words that occur once on the "
        f"page (at least two letters or digits) and {s['multi_per_page']} runs of 2-3 consecutive words of one line "
        "that occur once. hit@0.5: the answer's IoU with the target box is at least 0.5 (no answer is a miss); "
        "mean IoU counts no answer as 0; answered: the share of queries with any answer.",
        "",
        "| data set | queries | locator | hit@0.5 | mean IoU | answered |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary["metrics"]:
        if row["tokens"] != "all":
            continue
        lines.append(f"| {DATASET_TITLES[row['dataset']]}, {KIND_TITLES[row['kind']]} | {row['queries']} | "
                     f"{row['locator']} | {_pct(row['hit'])} | {_pct(row['mean_iou'])} | {_pct(row['answered'])} |")
    lines += ["", "Single-word queries by their count of TokenFD tokens (hit@0.5):", "",
              "| data set | tokens | queries | " + " | ".join(locators) + " |",
              "|---|---|---|" + "---|" * len(locators)]
    by_bucket: dict[tuple[str, str], dict[str, dict]] = {}
    for row in summary["metrics"]:
        if row["tokens"] != "all":
            by_bucket.setdefault((row["dataset"], row["tokens"]), {})[row["locator"]] = row
    for (dataset, bucket), rows in by_bucket.items():
        first = next(iter(rows.values()))
        lines.append(f"| {DATASET_TITLES[dataset]} | {bucket} | {first['queries']} | "
                     + " | ".join(_pct(rows[name]["hit"]) for name in locators) + " |")
    lines += ["", f"Latency per query in seconds, median of {s['repeats']} repeats (min–max); each repeat is the "
              f"median over the same {s['latency_queries']} sampled queries of a data set, every answer from "
              "scratch (TokenFD: the whole locate; Tesseract: reading the page and the search):", "",
              "| data set | " + " | ".join(locators) + " |", "|---|" + "---|" * len(locators)]
    by_dataset: dict[str, dict[str, dict]] = {}
    for row in summary["latency"]:
        by_dataset.setdefault(row["dataset"], {})[row["locator"]] = row
    for dataset, rows in by_dataset.items():
        lines.append(f"| {DATASET_TITLES[dataset]} | " + " | ".join(_seconds(rows[name]) for name in locators) + " |")
    v = summary["versions"]
    load = summary.get("load_average")
    busy = "" if load is None else f" (1-minute load average {load:.2f} at the start: other work on the machine " \
                                   "slows both locators)"
    lines += ["", f"Threads: TokenFD {s['threads']} intra-op and 1 inter-op thread (ONNX Runtime); Tesseract "
              f"{s['ocr_threads']} (`OMP_THREAD_LIMIT`). Measured {summary['measured']} on {summary['machine']}{busy}; "
              f"python {v['python']}, onnxruntime {v['onnxruntime']}, reportlab {v['reportlab']}, "
              f"pypdfium2 {v['pypdfium2']}.", "",
              f"Reproduce: `make eval-locate` (this run: `{summary['command']}`).", "",
              f"![TokenFD against Tesseract: hit@0.5 and latency]({plot_path})"]
    return "\n".join(lines)


def write_section(doc: Path, body: str) -> None:
    """Replace the report's block of `doc`, or append it at the end."""
    write_block(doc, BLOCK, body)


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    locators = summary["locators"]
    groups = [(row["dataset"], row["kind"]) for row in summary["metrics"]
              if row["tokens"] == "all" and row["locator"] == locators[0]]
    hits = {(row["dataset"], row["kind"], row["locator"]): row["hit"] or 0.0
            for row in summary["metrics"] if row["tokens"] == "all"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    x = np.arange(len(groups))
    width = 0.8 / len(locators)
    for i, name in enumerate(locators):
        bars = left.bar(x + (i - (len(locators) - 1) / 2) * width, [hits[(d, k, name)] for d, k in groups], width,
                        label=name)
        left.bar_label(bars, fmt="%.2f", fontsize=7)
    left.set_xticks(x, [f"{SHORT_TITLES[d]}\n{KIND_TITLES[k]}" for d, k in groups], fontsize=8)
    left.set_ylim(0, 1.1)
    left.set_ylabel("hit@0.5")
    left.legend()
    datasets = list(dict.fromkeys(row["dataset"] for row in summary["latency"]))
    rows = {(row["dataset"], row["locator"]): row for row in summary["latency"]}
    x = np.arange(len(datasets))
    for i, name in enumerate(locators):
        chosen = [rows[(d, name)] for d in datasets]
        medians = [r["median_s"] for r in chosen]
        errors = [[r["median_s"] - r["low_s"] for r in chosen], [r["high_s"] - r["median_s"] for r in chosen]]
        right.bar(x + (i - (len(locators) - 1) / 2) * width, medians, width, yerr=errors, capsize=3, label=name)
    right.set_xticks(x, [SHORT_TITLES[d] for d in datasets], fontsize=8)
    right.set_ylabel("seconds per query (median of repeats)")
    right.legend()
    title = "TokenFD locate against Tesseract"
    if summary["plumbing_only"]:
        title += " (fixture, plumbing only: random TokenFD weights)"
    save_plot(fig, path, title)
