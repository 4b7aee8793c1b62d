"""The versioned JSON summary of a run, computed from its records alone (so a resumed run,
a merged set of shards and an uninterrupted run of the same samples give the same summary).

Protocol numbers (docs/stem2code-eval.md): exec rate = executed samples / the fixed total
x 100, a sample that did not execute counting as not executed whether or not it has a record
(an incomplete run says so in `complete`); judge means over the judged samples, a sample that
did not render scoring image 0; the two finals, each labelled. Deterministic metrics are
always reported, their means over all samples (a sample that did not render scores 0).
"""
from __future__ import annotations

from collections import Counter

from services.codeperception.fidelity import IMAGE_METRICS, METRICS, TRACE_METRICS

from .judge import CODE, IMAGE
from .protocol import SCORE_SCALE

SCHEMA = "percept-eval.summary/1"
THREE_WAY = "(image + code + exec) / 3"
TWO_WAY = "(image + code) / 2"


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _finals(image: float | None, code: float | None, exec_rate: float, source: str) -> dict:
    finals = {}
    if image is not None and code is not None:
        finals["three_way"] = {"label": THREE_WAY, "value": round((image + code + exec_rate) / 3, 4),
                               "source": source}
        finals["two_way"] = {"label": TWO_WAY, "value": round((image + code) / 2, 4), "source": source}
    return finals


def summarize(records: list[dict], manifest: dict) -> dict:
    total = int(manifest["split"]["total"])
    records = sorted(records, key=lambda record: record["index"])
    executed = sum(1 for record in records if record["executed"])
    exec_rate = round(SCORE_SCALE * executed / total, 4) if total else 0.0

    metric_means = {}
    for name in METRICS:
        values = [record["fidelity"][name] for record in records if record["fidelity"].get(name) is not None]
        metric_means[name] = _mean(values)
    image_fidelity = _mean([_mean([r["fidelity"][m] for m in IMAGE_METRICS]) for r in records])
    traced = [r for r in records if all(r["fidelity"].get(m) is not None for m in TRACE_METRICS)]
    trace_fidelity = _mean([_mean([r["fidelity"][m] for m in TRACE_METRICS]) for r in traced])
    deterministic = {
        "aggregate_mean": _mean([record["fidelity"]["aggregate"] for record in records]),
        "metric_means": metric_means,
        "modes": dict(sorted(Counter(record["fidelity"]["mode"] for record in records).items())),
        "image_fidelity_mean": image_fidelity,
        "trace_fidelity_mean": trace_fidelity,
    }
    # The protocol's finals with the judge-free scores in the judges' places (x100): labelled as such,
    # never to be compared with published numbers.
    if image_fidelity is not None and trace_fidelity is not None:
        deterministic["finals"] = _finals(SCORE_SCALE * image_fidelity, SCORE_SCALE * trace_fidelity, exec_rate,
                                          "judge-free: image metrics as image score, trace metrics as code score")

    summary = {
        "schema": SCHEMA,
        "split": manifest["split"],
        "backend": manifest["backend"],
        "model": manifest["model"],
        "protocol": manifest["protocol"],
        "complete": len(records) == total,
        "counts": {"total": total, "recorded": len(records), "executed": executed,
                   "by_status": dict(sorted(Counter(record["status"] for record in records).items()))},
        "exec_rate": exec_rate,
        "deterministic": deterministic,
    }
    judge = manifest.get("judge")
    if judge:  # absent, not zero, without a judge
        judged = {}
        for kind in (IMAGE, CODE):
            if kind not in judge["scores"]:
                continue
            scores = [record["judge"][kind]["score"] for record in records
                      if record.get("judge", {}).get(kind, {}).get("score") is not None]
            judged[kind] = {"mean": _mean(scores), "judged": len(scores), "unjudged": len(records) - len(scores)}
        summary["judge"] = {"model": judge["model"], **judged}
        summary["finals"] = _finals(judged.get(IMAGE, {}).get("mean"), judged.get(CODE, {}).get("mean"),
                                    exec_rate, f"LLM judge {judge['model']}")
    return summary
