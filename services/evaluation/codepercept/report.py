"""The report of `make eval-codepercept`: its block of docs/benchmarks.md and a plot under docs/img."""
from __future__ import annotations

import os
from pathlib import Path

from ..docs_block import save_plot, write_block

BLOCK = "eval-codepercept"
SET_TITLES = {"engine": "held-out engine seeds", "independent": "independent figures"}
PLUMBING_BANNER = ("**Plumbing only.** The model's figures below come from a checkpoint trained for a few "
                   "steps (or marked so): they show that the evaluation runs end to end, nothing about "
                   "CodePercept-mini's quality. Retrieval's figures are real.")


def section(summary: dict, plot_link: str) -> str:
    settings = summary["settings"]
    lines = ["## CodePercept-mini: image-to-code by retrieval, by the model, and by both", ""]
    if summary["plumbing_only"]:
        lines += [PLUMBING_BANNER, ""]
    record = summary.get("record", {})
    lines += [f"Checkpoint `{summary['checkpoint']}` ({record.get('steps', '?')} steps). Every candidate is "
              f"rendered in the sandbox at {settings['dpi']} dpi and scored against the input (image metrics), "
              "the best kept, as the code-perception service does; fidelity is the mean aggregate over all "
              "figures, a failed render counting 0. Seconds per figure: the run's wall time over its figures, "
              f"{settings['concurrency']} at a time, on {settings['threads']} cores ({summary['date']}).", ""]
    for set_name in dict.fromkeys(row["set"] for row in summary["results"]):
        rows = [row for row in summary["results"] if row["set"] == set_name]
        lines += [f"### {SET_TITLES.get(set_name, set_name)} ({rows[0]['figures']} figures)", "",
                  "| configuration | backend | percept-eval options | exec rate | fidelity | s / figure |",
                  "|---|---|---|---:|---:|---:|"]
        lines += [f"| {row['config']} | `{row['backend']}` | {_options(row)} | {row['exec_rate']:.2f} | "
                  f"{row['fidelity']:.3f} | {row['seconds_per_figure']:.2f} |" for row in rows]
        lines += ["", "<details><summary>per family: fidelity (exec rate)</summary>", "",
                  "| family | " + " | ".join(row["config"] for row in rows) + " |",
                  "|---|" + "---:|" * len(rows)]
        for family in rows[0]["families"]:
            cells = [f"{row['families'][family]['fidelity']:.2f} ({row['families'][family]['exec_rate']:.2f})"
                     for row in rows]
            lines.append(f"| {family} | " + " | ".join(cells) + " |")
        lines += ["", "</details>", ""]
    lines += [f"Reproduce: `make eval-codepercept` (this run: `{summary['command']}`).", "",
              f"![exec rate and fidelity per configuration]({plot_link})"]
    return "\n".join(lines)


def _options(row: dict) -> str:
    """The run's own options (`--candidates 4 --greedy-first ...`: what best of 4 was), or none."""
    return f"`{' '.join(row['args'])}`" if row.get("args") else "none"


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    sets = list(dict.fromkeys(row["set"] for row in summary["results"]))
    configs = list(dict.fromkeys(row["config"] for row in summary["results"]))
    rows = {(row["set"], row["config"]): row for row in summary["results"]}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    x = np.arange(len(sets))
    width = 0.8 / len(configs)
    for axis, metric in zip(axes, ("exec_rate", "fidelity"), strict=True):
        for i, config in enumerate(configs):
            bars = axis.bar(x + (i - (len(configs) - 1) / 2) * width, [rows[(s, config)][metric] for s in sets],
                            width, label=config)
            axis.bar_label(bars, fmt="%.2f", fontsize=7)
        axis.set_xticks(x, [SET_TITLES.get(s, s) for s in sets])
        axis.set_ylim(0, 1.1)
        axis.set_title(metric.replace("_", " "))
    axes[1].legend(fontsize=8, loc="upper right")   # the fidelity panel's bars stay low
    title = "CodePercept-mini, retrieval and both"
    if summary["plumbing_only"]:
        title += " (plumbing only: the model is barely trained)"
    save_plot(fig, path, title)


def write_section(doc: Path, body: str, plot_path: Path, summary: dict) -> None:
    plot(summary, plot_path)
    write_block(doc, BLOCK, body)


def plot_link(doc: Path, plot_path: Path) -> str:
    return os.path.relpath(plot_path.resolve(), doc.resolve().parent)
