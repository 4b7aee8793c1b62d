"""The evaluation's runs (`python -m services.evaluation.codepercept`, cli.py; tune.py and retrieval_curve.py
run them too): the sets in STEM2Code's layout, the checkpoint served as the `codepercept` family with a sandbox
server beside it, and one percept-eval run per configuration with its figures (exec rate, fidelity, seconds per
figure, also per family)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

INDEPENDENT = Path(__file__).resolve().parents[3] / "tests" / "evaluation" / "independent_figures"
ENGINE_SEED = 1            # the held-out corpus seed (CodePercept-mini trains on seed 0, the index is seed 0's)
ENGINE_COUNT = 88          # 4 programs of each of the engine's 22 families
DPI = 100                  # the renders' resolution (the service's default; the protocol's 300 triples the time)
CONCURRENCY = 2            # figures generated and rendered at a time (2 cores)
SAMPLING = ("--temperature", "0.7", "--top-p", "0.95", "--seed", "0")
BEST_OF_4 = ("--candidates", "4", "--greedy-first", *SAMPLING)  # the greedy program and 3 samples, as served


@dataclass(frozen=True)
class Config:
    name: str
    backend: str
    args: tuple[str, ...]


CONFIGS = (
    Config("retrieval", "retrieval", ()),
    Config("model, greedy", "triton", ("--temperature", "0")),
    Config("model, best of 4", "triton", BEST_OF_4),
    Config("retrieval + model, not refined", "verified", (*BEST_OF_4, "--refine-renders", "0")),
    Config("retrieval + model", "verified", BEST_OF_4),   # as served: refined by the backend's default budget
)


# --- the sets ---------------------------------------------------------------------------------------

def write_sets(out: Path, sandbox: str, *, engine_seed: int, engine_count: int, dpi: int) -> dict[str, Path]:
    """{set: its directory (data.jsonl + images/)}, each written once (an existing one is kept)."""
    from percept_sandbox.client import SandboxClient
    from services.codeperception.sample_dataset import build_sample, client_renderer
    from services.evaluation.cli import main as percept_eval

    sets = {"engine": out / "sets" / "engine", "independent": out / "sets" / "independent"}
    if not (sets["engine"] / "data.jsonl").is_file():
        status = percept_eval(["synth", "--split", str(sets["engine"]), "--count", str(engine_count),
                               "--seed", str(engine_seed), "--dpi", str(dpi), "--sandbox", sandbox])
        if status:
            raise RuntimeError(f"the engine's held-out split was not written (percept-eval synth: {status})")
    if not (sets["independent"] / "data.jsonl").is_file():
        with SandboxClient(sandbox) as client:
            build_sample(sets["independent"], client_renderer(client, dpi), corpus=INDEPENDENT)
    return sets


def limited(directory: Path, limit: int | None) -> Path:
    """The set's data.jsonl, or a copy of its first `limit` lines beside it."""
    data = directory / "data.jsonl"
    if limit is None:
        return data
    lines = data.read_text().splitlines()[:limit]
    short = directory / f"data.first-{limit}.jsonl"
    short.write_text("\n".join(lines) + "\n")
    return short


def family_of(image: str) -> str:
    """An engine image's family (synth-0000012-circuit.png), else the figure's own name."""
    stem = Path(image).stem
    return stem.split("-", 2)[2] if stem.startswith("synth-") and stem.count("-") >= 2 else stem


# --- the runs ---------------------------------------------------------------------------------------

def serve_model(checkpoint: Path, out: Path):
    """A started TritonServer serving the checkpoint as the codepercept family (a context manager)."""
    from services.models.build_default import build_families
    from services.triton.launcher import TritonServer

    built = build_families(out / "build", checkpoints={"codepercept": checkpoint}, only=("codepercept",),
                           log=lambda *_: None)
    return TritonServer(built.repository, http_port=0, grpc_port=0, metrics_port=0)


def run_one(config: Config, data: Path, images: Path, out: Path, sandbox: str, dpi: int) -> dict:
    """One percept-eval run, from nothing; its figures and its wall time."""
    from services.evaluation.cli import main as percept_eval

    # percept-eval resumes a run directory's records: an earlier run's would be reported as this model's
    # figures, in no time.
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    status = percept_eval(["run", "--data", str(data), "--images", str(images), "--out", str(out),
                           "--backend", config.backend, "--sandbox", sandbox, "--dpi", str(dpi),
                           "--generation-concurrency", str(CONCURRENCY), "--render-concurrency", str(CONCURRENCY),
                           "--no-trace-metrics", "--no-report", *config.args])
    seconds = time.monotonic() - started
    if status:
        raise RuntimeError(f"percept-eval run ({config.name}) failed with exit status {status}")
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines() if line.strip()]
    families: dict[str, list[dict]] = {}
    for record in records:
        families.setdefault(family_of(record["image"]), []).append(record)
    return {"config": config.name, "backend": config.backend, "args": list(config.args), **_figures(records),
            "seconds_per_figure": round(seconds / max(1, len(records)), 3),
            "families": {name: _figures(rows) for name, rows in sorted(families.items())}}


def _figures(records: list[dict]) -> dict:
    n = max(1, len(records))
    statuses: dict[str, int] = {}
    for record in records:
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
    return {"figures": len(records), "exec_rate": round(sum(r["status"] == "OK" for r in records) / n, 4),
            "fidelity": round(sum(r["fidelity"]["aggregate"] for r in records) / n, 4),
            "statuses": dict(sorted(statuses.items()))}


@contextlib.contextmanager
def serving(args):
    """The sandbox server's address, with the checkpoint served by a real tritonserver and code
    perception's settings pointing at both (restored afterwards)."""
    from services.evaluation.local_sandbox import LocalSandbox

    # The model is asked the question it was trained on: it declares it (the generation contract's code_prompt).
    from services.models.codepercept.family import GENERATION_MODEL

    with environment(PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX=str(args.index.resolve()),
                     PERCEPT_CODEPERCEPTION_TRITON_MODEL=GENERATION_MODEL, PERCEPT_CODEPERCEPTION_PROMPT="",
                     PERCEPT_CODEPERCEPTION_TRITON_URL=""), \
            LocalSandbox(args.out / "logs", workers=2, queue_size=8) as sandbox, \
            serve_model(args.checkpoint, args.out) as triton:
        os.environ["PERCEPT_CODEPERCEPTION_TRITON_URL"] = triton.grpc_url
        yield sandbox


@contextlib.contextmanager
def environment(**values: str):
    """These environment variables set (code perception's settings are read from it), then as they were."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
