"""`percept-sandbox`: serve the gRPC API, or render one file through the same jail.

    percept-sandbox serve [--host H] [--port P] [--metrics-port M] [--workers N] [--queue-size Q]
    percept-sandbox render FILE [--dpi N] [--timeout S] [--out DIR] [--format png|svg] [--no-trace]

`render` prints one JSON object (status, image paths, trace, timings) and exits 0
when the status is OK, 1 for any other render status, 2 for a bad invocation and
3 when the jail is unavailable (and the insecure flag is not set).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .. import settings
from ..config import SandboxConfig
from ..errors import InvalidRequest, IsolationUnavailable
from ..pool import SandboxPool
from ..render.results import ImageFormat, RenderOptions, Status

EXIT_OK, EXIT_NOT_OK, EXIT_USAGE, EXIT_NO_ISOLATION = 0, 1, 2, 3


def render_file(pool: SandboxPool, path: Path, options: RenderOptions, out_dir: Path) -> dict:
    """Render one file and write its images; the JSON-ready report the CLI prints."""
    code = path.read_text(encoding="utf-8", errors="replace")
    result = pool.render(code, options)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for figure in result.figures:
        target = out_dir / f"{path.stem}-{figure.index}.{figure.format.value}"
        target.write_bytes(figure.data)
        images.append(str(target))
    report = result.summary()
    report["file"] = str(path)
    report["images"] = images
    report["trace"] = json.loads(result.trace_json) if result.trace_json else None
    report["isolation"] = {k: v for k, v in pool.isolation.items() if k != "warnings"}
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="percept-sandbox", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    insecure_help = ("DANGER: run even without user namespaces or seccomp "
                     f"(same as {settings.INSECURE_NO_ISOLATION.name}=1); only for trusted code")

    serve = sub.add_parser("serve", help="run the gRPC server with health, reflection and /metrics")
    serve.add_argument("--host", default=None, help=f"gRPC bind address (default ${settings.GRPC_HOST.name})")
    serve.add_argument("--port", type=int, default=None, help=f"gRPC port (default ${settings.GRPC_PORT.name})")
    serve.add_argument("--metrics-host", default=None, help=f"metrics bind address (${settings.METRICS_HOST.name})")
    serve.add_argument("--metrics-port", type=int, default=None, help=f"metrics port (${settings.METRICS_PORT.name})")
    serve.add_argument("--workers", type=int, default=None, help="concurrent renders (default: one per core)")
    serve.add_argument("--queue-size", type=int, default=None, help="renders that may wait for a worker")
    serve.add_argument("--insecure-no-isolation", action="store_true", help=insecure_help)

    render = sub.add_parser("render", help="render one file through the jail and print a JSON report")
    render.add_argument("file", type=Path)
    render.add_argument("--dpi", type=int, default=100)
    render.add_argument("--timeout", type=float, default=None, help="seconds (default: the server default)")
    render.add_argument("--out", type=Path, default=Path("."), help="directory for the images (default: .)")
    render.add_argument("--format", choices=[f.value for f in ImageFormat], default="png")
    render.add_argument("--no-trace", action="store_true", help="skip the execution trace")
    render.add_argument("--insecure-no-isolation", action="store_true", help=insecure_help)
    return parser


def _config(args: argparse.Namespace, **overrides) -> SandboxConfig:
    insecure = True if args.insecure_no_isolation else None
    return SandboxConfig.from_env(insecure_no_isolation=insecure, **overrides)


def _render(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(json.dumps({"error": f"no such file: {args.file}"}), file=sys.stderr)
        return EXIT_USAGE
    config = _config(args, workers=1, queue_size=0)
    options = RenderOptions(dpi=args.dpi, format=ImageFormat(args.format), timeout_s=args.timeout,
                            trace=not args.no_trace)
    with SandboxPool(config) as pool:
        try:
            report = render_file(pool, args.file, options, args.out)
        except InvalidRequest as exc:
            print(json.dumps({"error": str(exc), "code": exc.code}), file=sys.stderr)
            return EXIT_USAGE
    print(json.dumps(report, ensure_ascii=False))
    return EXIT_OK if report["status"] == Status.OK.value else EXIT_NOT_OK


def _serve(args: argparse.Namespace) -> int:
    from .server import serve

    config = _config(args, workers=args.workers, queue_size=args.queue_size)
    return serve(config,
                 host=args.host or settings.GRPC_HOST.get(),
                 port=args.port if args.port is not None else settings.GRPC_PORT.get(),
                 metrics_host=args.metrics_host or settings.METRICS_HOST.get(),
                 metrics_port=args.metrics_port if args.metrics_port is not None else settings.METRICS_PORT.get())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get(settings.LOG_LEVEL.name, "INFO").upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        if args.command == "render":
            return _render(args)
        return _serve(args)
    except IsolationUnavailable as exc:
        logging.getLogger("percept_sandbox").critical("%s", exc)
        return EXIT_NO_ISOLATION
    except ValueError as exc:  # invalid configuration
        logging.getLogger("percept_sandbox").error("%s", exc)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
