"""What the recipes that train models here share (TokenFD-mini, CodePercept-mini): the resumable step loop
with its progress bar and held-out evaluations, and the staged fp16 checkpoint writer."""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import functools
import json
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import torch

STATE_FILE = "state.pt"   # the resumable training state in a recipe's --out directory
TRIM_EVERY = 10           # steps between handing the allocator's free pages back (release_freed_memory)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Give the pages the allocator holds free back to the system (glibc's malloc_trim; nothing elsewhere).
    Batches of changing shapes (CodePercept-mini's run from about 700 to 1,300 tokens) leave glibc's heaps
    fragmented: the first CodePercept-mini run's resident memory grew by about 0.8 GB every 100 steps, on
    course to pass the machine's 24 GB before its end."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def machine() -> dict:
    """What a run's numbers depend on besides the recipe: the CPU (its bfloat16 units pick torch's kernels: a
    rerun on one kind of CPU repeated its run, one on another drifted apart; docs/tokenfd-mini.md, "Rerun 2"),
    the thread count and torch's version. Recorded with each checkpoint."""
    cpu, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                cpu = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    units = [unit for unit in ("amx_bf16", "avx512_bf16") if unit in flags]
    return {"cpu": cpu, "bf16_units": units, "threads": torch.get_num_threads(), "torch": torch.__version__}


def save_state(out: Path, state: dict) -> None:
    """`state` to out/STATE_FILE, atomically: a run killed while saving resumes from the previous one."""
    out.mkdir(parents=True, exist_ok=True)
    partial = out / (STATE_FILE + ".partial")
    torch.save(state, partial)
    partial.replace(out / STATE_FILE)


def load_state(out: Path) -> dict | None:
    """The state saved in `out`, or None when there is none (a fresh run)."""
    path = out / STATE_FILE
    return torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else None


class Steps(Protocol):
    """A trainer the loop drives: its recipe has steps, time_budget_s and eval_every."""
    recipe: object
    step: int
    elapsed_s: float
    history: list[dict]

    def train_step(self) -> dict: ...
    def evaluate(self) -> dict: ...
    def save_state(self) -> None: ...
    def log(self, line: str) -> None: ...


def recipe_parser(program: str, description: str, defaults) -> argparse.ArgumentParser:
    """The arguments every recipe takes (its corpus, held-out corpus and output directory; the Recipe fields
    steps, time_budget_s, batch, threads, seed, eval_every, defaulting to `defaults`); a recipe adds its own."""
    parser = argparse.ArgumentParser(prog=program, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--time-budget", type=float, default=defaults.time_budget_s)
    parser.add_argument("--batch", type=int, default=defaults.batch)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    return parser


def run_steps(trainer: Steps, postfix: Callable[[dict], dict[str, str]], progress: bool = True) -> None:
    """Train to the recipe's last step (or its time budget, counted across resumes): every eval_every steps
    the held-out metric joins the history and the state is saved; at the end the last step is evaluated
    (once) and the state saved. `postfix(last metric)` adds the bar's fields after the loss."""
    from tqdm import tqdm

    r = trainer.recipe
    bar = tqdm(total=r.steps, initial=trainer.step, unit="step", disable=not progress, file=sys.stderr,
               dynamic_ncols=True, mininterval=2.0)
    loss_ema, metric = None, (trainer.history[-1] if trainer.history else {})
    while trainer.step < r.steps and trainer.elapsed_s < r.time_budget_s:
        started = time.monotonic()
        losses = trainer.train_step()
        if trainer.step % TRIM_EVERY == 0:
            release_freed_memory()
        trainer.elapsed_s += time.monotonic() - started
        loss_ema = losses["loss"] if loss_ema is None else 0.98 * loss_ema + 0.02 * losses["loss"]
        if trainer.step % r.eval_every == 0:
            metric = {"step": trainer.step, "elapsed_s": round(trainer.elapsed_s, 1), "loss": round(loss_ema, 4),
                      **trainer.evaluate()}
            trainer.history.append(metric)
            trainer.save_state()
            trainer.log(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metric.items()))
        bar.update(1)
        bar.set_postfix(loss=f"{loss_ema:.3f}", **postfix(metric), refresh=False)
    bar.close()
    if trainer.step < r.steps:  # a shortened schedule is another model: say so where the run is read
        trainer.log(f"the time budget ({r.time_budget_s:.0f}s) stopped training at step {trainer.step} "
                    f"of {r.steps}")
    if not trainer.history or trainer.history[-1]["step"] != trainer.step:
        trainer.history.append({"step": trainer.step, "elapsed_s": round(trainer.elapsed_s, 1),
                                "loss": round(loss_ema if loss_ema is not None else float("nan"), 4),
                                **trainer.evaluate()})
    trainer.save_state()


def write_checkpoint(out: str | Path, weights_file: str, state: dict[str, torch.Tensor],
                     documents: dict[str, dict], copies: dict[str, Path]) -> Path:
    """A checkpoint directory written whole or not at all: `state` as fp16 safetensors (integer tensors as
    they are) in `weights_file`, each of `documents` as JSON, each of `copies` copied from its source; then
    the staging directory is renamed over `out`."""
    from safetensors.torch import save_file

    out = Path(out)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    half = {name: (t.detach().to(torch.float16) if t.is_floating_point() else t.detach()).contiguous()
            for name, t in state.items()}
    save_file(half, str(staging / weights_file), metadata={"format": "pt"})
    for name, document in documents.items():
        (staging / name).write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    for name, source in copies.items():
        shutil.copyfile(source, staging / name)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out
