"""`percept-eval`: STEM2Code-Eval, resumable and sharded, plus the synthetic data engine.

    percept-eval run --data FILE.jsonl --images DIR --out DIR [--backend NAME] [--candidates N] [--refine-renders N]
                     [--shard i/n] [--prompt TEXT | --prompt-file FILE] [--temperature T] [--top-p P]
                     [--top-k K] [--max-tokens N] [--seed S] [--judge-url URL --judge-model M]
                     [--sandbox HOST:PORT]   (none given and none running: a local one for the run)
    percept-eval merge --out DIR SHARD_DIR...
    percept-eval report DIR
    percept-eval k8s-job --task run|synth --name NAME --image IMAGE --parallelism N ... [--submit]
    percept-eval synth ...        (services/evaluation/synth/cli.py)

Exit status: 0 done, 1 the run could not finish (a backend or the sandbox failed, or a given
sandbox does not answer; rerun the same command to resume), 2 bad invocation or configuration,
130 interrupted.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from services.codeperception.backends.registry import BACKEND_NAMES
from services.common.settings import SettingsError, load
from services.evaluation.arguments import fail, positive_int

from . import settings

PROGRAM = "percept-eval"
_fail = functools.partial(fail, PROGRAM)


def _add_run(sub) -> None:
    parser = sub.add_parser("run", help="evaluate a backend on a split (or one shard of it)")
    parser.add_argument("--data", required=True, type=Path, help="the split's JSONL (STEM2Code-Eval format)")
    parser.add_argument("--images", required=True, type=Path, help="directory the image paths are relative to")
    parser.add_argument("--out", required=True, type=Path, help="run directory (created; an existing one resumes)")
    parser.add_argument("--backend", default="reference", choices=BACKEND_NAMES,
                        help="code perception's generation backend (its PERCEPT_CODEPERCEPTION_* settings apply)")
    parser.add_argument("--candidates", type=positive_int, default=1,
                        help="answers per sample, each rendered and scored against the input, the best kept "
                        "(as the code-perception service chooses; `retrieval` and `verified` verify their k "
                        "nearest programs even at 1)")
    parser.add_argument("--refine-renders", type=int, default=None,
                        help="renders spent refining the best answer's numbers, as the service refines it "
                        "(default: the service's for the backend, PERCEPT_CODEPERCEPTION_REFINE_RENDERS; 0: off)")
    parser.add_argument("--shard", default=None, help="i/n: run shard i of n (default: JOB_COMPLETION_INDEX "
                        "with PERCEPT_EVAL_SHARD_COUNT, else the whole split)")
    parser.add_argument("--sandbox", default=None, help=f"sandbox-runner host:port ({settings.SANDBOX_URL.name}; "
                        "when neither is given and none answers at the default address, a local one is "
                        "started for the run)")
    parser.add_argument("--generation-concurrency", type=positive_int, default=None)
    parser.add_argument("--render-concurrency", type=positive_int, default=None)
    parser.add_argument("--dpi", type=positive_int, default=None, help="render dpi (protocol: 300)")
    parser.add_argument("--timeout", type=float, default=None, help="render timeout in seconds (protocol: 30)")
    parser.add_argument("--no-trace-metrics", action="store_true",
                        help="do not render the ground truth (image metrics only)")
    parser.add_argument("--prompt", default="", help="instruction text (default: the backend's configured one)")
    parser.add_argument("--prompt-file", default="", help="instruction file (wins over --prompt)")
    parser.add_argument("--model", default="", help="`openai` backend: the served model's name")
    parser.add_argument("--base-url", default="", help="`openai` backend: the endpoint (…/v1)")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--repetition-penalty", type=float, default=None)
    parser.add_argument("--presence-penalty", type=float, default=None)
    parser.add_argument("--max-tokens", type=positive_int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--greedy-first", action=argparse.BooleanOptionalAction, default=None,
                        help="the first model candidate decodes greedily, the others sample (default: with "
                        "--candidates above 1, as the service does)")
    parser.add_argument("--judge-url", default=None, help=f"LLM judge endpoint ({settings.JUDGE_BASE_URL.name})")
    parser.add_argument("--judge-model", default=None, help=f"judge model ({settings.JUDGE_MODEL.name})")
    parser.add_argument("--judge-scores", default=None, choices=("image", "code", "both"))
    parser.add_argument("--no-report", action="store_true", help="write the summary only, not the HTML report")


def _judge_config(args, values):
    from .judge import CODE, IMAGE, JudgeConfig

    url = args.judge_url if args.judge_url is not None else values[settings.JUDGE_BASE_URL.name]
    if not url:
        return None
    settings.http_url(url)
    model = args.judge_model if args.judge_model is not None else values[settings.JUDGE_MODEL.name]
    if not model:
        raise ValueError("a judge needs a model name (--judge-model or PERCEPT_EVAL_JUDGE_MODEL)")
    which = (args.judge_scores or values[settings.JUDGE_SCORES.name] or "both").lower()
    scores = frozenset({IMAGE, CODE} if which == "both" else {which})
    return JudgeConfig(base_url=url, model=model, scores=scores, attempts=values[settings.JUDGE_ATTEMPTS.name],
                       timeout_s=values[settings.JUDGE_TIMEOUT_S.name],
                       api_key=values[settings.JUDGE_API_KEY.name])


def run_config(args, values):
    from services.codeperception.backends import GenerationOptions

    from .harness import RunConfig
    from .shards import Shard

    shard = Shard.parse(args.shard) if args.shard else (Shard.from_env() or Shard.whole())
    extra = {key: value for key, value in (("top_k", args.top_k), ("repetition_penalty", args.repetition_penalty),
                                           ("presence_penalty", args.presence_penalty)) if value is not None}
    if args.temperature is not None and not 0.0 <= args.temperature <= 2.0:
        raise ValueError("--temperature must be in [0, 2]")
    if args.top_p is not None and not 0.0 < args.top_p <= 1.0:
        raise ValueError("--top-p must be in (0, 1]")
    if args.timeout is not None and not args.timeout > 0:
        raise ValueError("--timeout must be above 0")
    if args.refine_renders is not None and args.refine_renders < 0:
        raise ValueError("--refine-renders must be 0 or more")
    if not args.data.is_file():
        raise ValueError(f"--data {args.data} is not a file")
    if not args.images.is_dir():
        raise ValueError(f"--images {args.images} is not a directory")
    if args.prompt_file and not Path(args.prompt_file).is_file():
        raise ValueError(f"--prompt-file {args.prompt_file} is not a file")
    return RunConfig(
        data=args.data, images=args.images, out=args.out, backend=args.backend, shard=shard,
        candidates=args.candidates, refine_renders=args.refine_renders,
        sandbox_url=args.sandbox or values[settings.SANDBOX_URL.name],
        dpi=args.dpi or values[settings.RENDER_DPI.name],
        render_timeout_s=args.timeout or values[settings.RENDER_TIMEOUT_S.name],
        sandbox_retry_s=values[settings.SANDBOX_RETRY_S.name],
        generation_timeout_s=values[settings.GENERATION_TIMEOUT_S.name],
        generation_concurrency=args.generation_concurrency or values[settings.GENERATION_CONCURRENCY.name],
        render_concurrency=args.render_concurrency or values[settings.RENDER_CONCURRENCY.name],
        options=GenerationOptions(max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p,
                                  seed=args.seed, extra=extra,
                                  greedy_first=GenerationOptions.greedy_first_for(args.greedy_first, args.candidates)),
        prompt=args.prompt, prompt_file=args.prompt_file, model=args.model, base_url=args.base_url,
        judge=_judge_config(args, values), trace_metrics=not args.no_trace_metrics,
        progress_interval_s=values[settings.PROGRESS_INTERVAL_S.name])


def cmd_run(args) -> int:
    from services.codeperception.backends import BackendUnavailable
    from services.common.errors import PerceptError

    from .harness import Harness, SplitError
    from .local_sandbox import SandboxStartError, answers
    from .records import RunDirError
    from .shards import ShardError

    try:
        values = load(settings.COMPONENT)
        config = run_config(args, values)
    except (SettingsError, ShardError, ValueError) as exc:
        return _fail(f"invalid configuration: {exc}")
    local = None
    if not answers(config.sandbox_url):
        if args.sandbox or os.environ.get(settings.SANDBOX_URL.name):
            return _fail(f"no sandbox-runner answers at {config.sandbox_url} (given by --sandbox or "
                         f"{settings.SANDBOX_URL.name}); start it there, or give neither to have {PROGRAM} "
                         f"start a local one for the run", 1)
        local = _local_sandbox(config)
        config = replace(config, sandbox_url=local.target)
    try:
        harness = Harness(config)
    except (SettingsError, ValueError) as exc:
        return _fail(f"invalid configuration: {exc}")
    try:
        if local is None:
            result = asyncio.run(harness.run())
        else:
            result = _run_with(local, harness)
    except SandboxStartError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted; samples done so far are kept, run the same command again to resume", 130)
    except BackendUnavailable as exc:
        return _fail(f"the {config.backend} backend cannot serve: {exc}")
    except (RunDirError, SplitError) as exc:
        return _fail(str(exc))
    except PerceptError as exc:
        return _fail(f"stopped: {exc.message} ({exc.code.value}); samples done so far are kept, "
                     f"run the same command again to resume", 1)
    except (OSError, ValueError) as exc:
        return _fail(f"stopped: {exc}; run the same command again to resume", 1)
    return _finish_dir(config.out, write_report=not args.no_report,
                       note=f"{result.ran} run, {result.skipped} already recorded, {result.seconds:.1f}s")


def _local_sandbox(config):
    """The sandbox-runner this run starts for itself (none given, none at the default address)."""
    from .local_sandbox import LOG_DIR, LocalSandbox

    slots = config.render_concurrency   # each render the harness keeps in flight gets a worker or a queue place
    return LocalSandbox(config.out / LOG_DIR, workers=min(slots, os.cpu_count() or 1), queue_size=slots)


def _run_with(local, harness):
    print(f"{PROGRAM}: no sandbox-runner at {settings.SANDBOX_URL.get()}; starting a local one for this run "
          f"at {local.target} (log {local.log_path})", file=sys.stderr, flush=True)
    try:
        with local:
            print(f"{PROGRAM}: local sandbox-runner ready (pid {local.pid})", file=sys.stderr, flush=True)
            return asyncio.run(harness.run())
    finally:
        print(f"{PROGRAM}: local sandbox-runner stopped", file=sys.stderr, flush=True)


def _finish_dir(out: Path, *, write_report: bool, note: str = "") -> int:
    from .report import write_report as render_report
    from .rundir import write_summary

    summary = write_summary(out)
    print(json.dumps(summary, indent=2, sort_keys=True))
    if note:
        print(f"{PROGRAM}: {note}", file=sys.stderr)
    print(f"{PROGRAM}: summary {out / 'summary.json'}")
    if write_report:
        path = render_report(out)
        print(f"{PROGRAM}: report {path}")
    return 0


def cmd_report(args) -> int:
    from .records import RunDirError

    try:
        return _finish_dir(args.dir, write_report=True)
    except (RunDirError, FileNotFoundError) as exc:
        return _fail(str(exc))


def cmd_merge(args) -> int:
    from .merge import MergeError, merge

    try:
        merge(args.shards, args.out)
    except MergeError as exc:
        return _fail(f"cannot merge: {exc}")
    return _finish_dir(args.out, write_report=not args.no_report)


def cmd_k8s_job(args) -> int:
    from . import k8s_job

    return k8s_job.main(args)


def cmd_synth(args) -> int:
    from .synth import cli as synth_cli  # the data engine's own CLI module
    return synth_cli.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="STEM2Code-Eval harness and synthetic STEM data engine")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    merge = sub.add_parser("merge", help="combine shard run directories into one")
    merge.add_argument("--out", required=True, type=Path)
    merge.add_argument("shards", nargs="+", type=Path, help="the shards' run directories")
    merge.add_argument("--no-report", action="store_true")
    report = sub.add_parser("report", help="re-render the summary and HTML report of a run directory")
    report.add_argument("dir", type=Path)
    from . import k8s_job
    k8s_job.add_arguments(sub.add_parser("k8s-job", help="write (and optionally submit) a Kubernetes Indexed Job"))
    synth = sub.add_parser("synth", help="generate synthetic STEM programs, triplets and splits")
    try:
        from .synth import cli as synth_cli
    except ImportError:  # the data engine is optional for the harness
        synth_cli = None
    if synth_cli is not None:
        synth_cli.add_arguments(synth)
    return parser


COMMANDS = {"run": cmd_run, "merge": cmd_merge, "report": cmd_report, "k8s-job": cmd_k8s_job, "synth": cmd_synth}


def main(argv: list[str] | None = None) -> int:
    try:
        log_level = settings.LOG_LEVEL.get()
    except SettingsError as exc:
        print(f"percept-eval: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
