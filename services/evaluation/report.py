"""The HTML report of a run directory: the summary, score distributions (matplotlib), and per
sample the input and its render side by side with the status and scores.

Written to OUT/report/ (index.html, thumbs/, plots/) from the records alone, so
`percept-eval report DIR` re-renders it at any time; opening it needs no server.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from PIL import Image

from services.codeperception.fidelity import METRICS

from .rundir import load_run
from .summary import summarize

REPORT = "report"
THUMB_PX = 240


def _thumb(source: Path, target: Path) -> bool:
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return True
    try:
        with Image.open(source) as image:
            image.draft("RGB", (THUMB_PX * 2, THUMB_PX * 2))  # JPEG: decode at a reduced size
            image = image.convert("RGB")
            image.thumbnail((THUMB_PX, THUMB_PX))
            image.save(target, format="JPEG", quality=85)
        return True
    except OSError:
        return False


def _plot(records: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [("aggregate fidelity", [r["fidelity"]["aggregate"] for r in records], (0, 1))]
    for kind in ("image", "code"):
        scores = [r["judge"][kind]["score"] for r in records
                  if r.get("judge", {}).get(kind, {}).get("score") is not None]
        if scores:
            series.append((f"judge {kind} score", scores, (0, 100)))
    figure, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.2), squeeze=False)
    for ax, (title, values, limits) in zip(axes[0], series, strict=True):
        ax.hist(values, bins=20, range=limits, color="#4c72b0", edgecolor="white")
        ax.set_title(title)
        ax.set_xlabel("score")
        ax.set_ylabel("samples")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _cell(value) -> str:
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def write_report(out: Path, images_dir: Path | None = None) -> Path:
    manifest, records = load_run(out)
    records.sort(key=lambda record: record["index"])
    summary = summarize(records, manifest)
    images_dir = images_dir or Path(manifest.get("images_dir", ""))
    report = out / REPORT
    (report / "thumbs").mkdir(parents=True, exist_ok=True)
    (report / "plots").mkdir(parents=True, exist_ok=True)
    if records:
        _plot(records, report / "plots" / "scores.png")
    judged = [kind for kind in ("image", "code") if summary.get("judge", {}).get(kind)]
    rows = []
    for record in records:
        index = record["index"]
        cells = []
        source = images_dir / record["image"] if images_dir else None
        for label, path in (("input", source), ("render", out / record["render"] if record["render"] else None)):
            thumb = report / "thumbs" / f"{index}-{label}.jpg"
            if path is not None and path.is_file() and _thumb(path, thumb):
                cells.append(f'<td><img src="thumbs/{thumb.name}" alt="{label} {index}" loading="lazy"></td>')
            else:
                cells.append(f"<td class=none>no {label}</td>")
        scores = "".join(f"<td>{_cell(record['fidelity'].get(name))}</td>" for name in ("aggregate", *METRICS))
        scores += "".join(f"<td>{_cell(record.get('judge', {}).get(kind, {}).get('score'))}</td>" for kind in judged)
        status_class = "ok" if record["executed"] else "bad"
        rows.append(f"<tr><td>{index}</td><td>{html.escape(record['image'])}</td>{''.join(cells)}"
                    f"<td class={status_class} title=\"{html.escape(record['detail'])}\">"
                    f"{html.escape(record['status'])}</td>{scores}</tr>")
    headers = "".join(f"<th>{name}</th>" for name in ("#", "image", "input", "render", "status", "aggregate",
                                                      *METRICS, *(f"judge {kind}" for kind in judged)))
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>percept-eval report</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 4px 6px; text-align: center; vertical-align: middle; }}
td.ok {{ color: #1a7f37; }} td.bad {{ color: #b42318; font-weight: bold; }} td.none {{ color: #888; }}
img {{ max-width: {THUMB_PX}px; max-height: {THUMB_PX}px; }} pre {{ background: #f6f8fa; padding: 1em; }}
</style></head><body>
<h1>percept-eval: {html.escape(str(summary['backend']))} on {html.escape(str(summary['split']['data']))}</h1>
<p>exec rate {summary['exec_rate']:.2f}% over {summary['counts']['total']} samples;
mean aggregate fidelity {_cell(summary['deterministic']['aggregate_mean'])}
{'' if summary['complete'] else '<strong>(incomplete run)</strong>'}</p>
{'<img src="plots/scores.png" alt="score distributions">' if records else ''}
<h2>Summary</h2><pre>{html.escape(json.dumps(summary, indent=2, sort_keys=True))}</pre>
<h2>Samples</h2><table><thead><tr>{headers}</tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    path = report / "index.html"
    path.write_text(document, encoding="utf-8")
    return path
