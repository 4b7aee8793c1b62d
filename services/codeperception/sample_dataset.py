"""The reference backend's embedded dataset: the repository's STEM-style programs
(tests/sandbox/corpus/*.py) rendered by the real sandbox, in STEM2Code's layout:

    <out>/data.jsonl        one ms-swift conversation record per program (dataset.record)
    <out>/images/<stem>.png its first figure, at the service's default DPI

so `make up` serves the `reference` backend out of the box, and its answers score about 1
(the end-to-end self-check). A plumbing fixture, not an evaluation set.

    python -m services.codeperception.sample_dataset --out artifacts/stem2code-sample
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from .dataset import record
from .prompt import DEFAULT_PROMPT

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "sandbox" / "corpus"

# code -> the PNG of its first figure (raises when it did not render)
RenderFirstFigure = Callable[[str], bytes]


def build_sample(out: Path, render: RenderFirstFigure, *, corpus: Path = CORPUS) -> Path:
    """Render every program of `corpus` and write the dataset, replacing `out` atomically."""
    programs = sorted(corpus.glob("*.py"))
    if not programs:
        raise FileNotFoundError(f"no programs in {corpus}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / "images").mkdir()
        lines = []
        for program in programs:
            code = program.read_text()
            image_name = f"{program.stem}.png"
            (staging / "images" / image_name).write_bytes(render(code))
            lines.append(json.dumps(record(image_name, code, DEFAULT_PROMPT)))
        (staging / "data.jsonl").write_text("\n".join(lines) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def pool_renderer(pool, dpi: int) -> RenderFirstFigure:
    """Renders with an in-process percept_sandbox SandboxPool (the server's jail, no server)."""
    from percept_sandbox.render.results import RenderOptions, Status

    def render(code: str) -> bytes:
        result = pool.render(code, RenderOptions(dpi=dpi, trace=False))
        if result.status is not Status.OK or not result.figures:
            raise RuntimeError(f"a corpus program did not render: {result.status.value} {result.detail}")
        return result.figures[0].data

    return render


def client_renderer(client, dpi: int) -> RenderFirstFigure:
    """Renders through a running sandbox server (a percept_sandbox.client.SandboxClient)."""
    from percept_sandbox.api import sandbox_pb2

    def render(code: str) -> bytes:
        response = client.render(code, dpi=dpi, omit_trace=True, retries=20)
        if response.status != sandbox_pb2.RENDER_STATUS_OK or not response.figures:
            raise RuntimeError(f"a corpus program did not render: {response.detail}")
        return response.figures[0].data

    return render


def main(argv: list[str] | None = None) -> int:
    from services.codeperception import settings

    parser = argparse.ArgumentParser(prog="python -m services.codeperception.sample_dataset", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(settings.DATASET_DIR.default))
    parser.add_argument("--dpi", type=int, default=settings.RENDER_DPI.get())
    args = parser.parse_args(argv)
    from percept_sandbox.config import SandboxConfig
    from percept_sandbox.pool import SandboxPool

    with SandboxPool(SandboxConfig.from_env(workers=1, queue_size=len(list(CORPUS.glob("*.py"))))) as pool:
        out = build_sample(args.out, pool_renderer(pool, args.dpi))
    print(f"STEM2Code-format sample dataset: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
