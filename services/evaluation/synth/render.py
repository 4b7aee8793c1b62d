"""Triplets from programs: each is rendered by the sandbox-runner (over gRPC, with its
execution trace) and captioned from that trace by the code-perception caption builder.

A family program that does not render (any status but OK, or no figure) is a bug in the
family: it stops the run with the program's family, index and the sandbox's answer.
Renders run `concurrency` at a time; results come back in corpus order.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import grpc

from percept_sandbox.api import sandbox_pb2
from percept_sandbox.client import SandboxClient
from services.codeperception.captions import caption_from_trace
from services.codeperception.render_trace import parse_trace
from services.common.pools import in_order

from .corpus import Program

FULL_POOL_RETRIES = 600  # a full sandbox pool is waited out (its retry hints) rather than failing the corpus

STDERR_SHOWN = 2000  # characters of the failed program's stderr tail in the error


class RenderFailed(RuntimeError):
    """A family program did not render: a bug in that family."""


class SandboxUnavailable(RuntimeError):
    """The sandbox-runner could not be reached or refused the call."""


@dataclass(frozen=True)
class Triplet:
    program: Program
    image: bytes  # PNG of the program's (first and only) figure
    trace: dict  # the sandbox's execution trace, parsed
    caption: str


def triplet_of(program: Program, *, ok: bool, figures: list[bytes], trace_json: str, answer: str) -> Triplet:
    """The triplet of one render of `program`, which must be OK with exactly one figure and an execution
    trace; anything else is RenderFailed naming the program, with `answer` (what the sandbox said: its
    status, detail and stderr tail). The one check, whichever sandbox (a server, an in-process pool) rendered."""
    where = f"family {program.family!r} sample {program.index} (seed {program.seed})"
    if not ok or len(figures) != 1:
        raise RenderFailed(f"{where} did not render one figure: {len(figures)} figures, {answer}")
    trace = parse_trace(trace_json)
    if trace is None:
        raise RenderFailed(f"{where} rendered without an execution trace")
    return Triplet(program=program, image=figures[0], trace=trace, caption=caption_from_trace(trace))


class TripletRenderer:
    """Renders the data engine's programs into triplets through a sandbox-runner (a blocking client;
    code perception's asynchronous one is services.codeperception.sandbox.SandboxRenderer)."""

    def __init__(self, target: str, *, dpi: int, timeout_s: float) -> None:
        self.target = target
        self.dpi = dpi
        self.timeout_s = timeout_s
        self.client = SandboxClient(target)

    def triplet(self, program: Program) -> Triplet:
        try:
            response = self.client.render(program.code, dpi=self.dpi, timeout_s=self.timeout_s,
                                          request_id=program.name, retries=FULL_POOL_RETRIES)
        except grpc.RpcError as error:
            raise SandboxUnavailable(f"sandbox-runner at {self.target}: {error.code().name}: "
                                     f"{error.details()}") from None
        error = f"{response.error.type}: {response.error.message}\n" if response.error.type else ""
        answer = (f"{sandbox_pb2.RenderStatus.Name(response.status)}, {response.detail}\n"
                  f"{error}{response.stderr.text[-STDERR_SHOWN:]}")
        return triplet_of(program, ok=response.status == sandbox_pb2.RENDER_STATUS_OK,
                          figures=[figure.data for figure in response.figures], trace_json=response.trace_json,
                          answer=answer)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "TripletRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_all(renderer: TripletRenderer, programs: Iterable[Program], *, concurrency: int) -> Iterator[Triplet]:
    """Triplets in the programs' order, with at most `concurrency` renders in flight."""
    return in_order(renderer.triplet, programs, workers=concurrency, thread_name_prefix="synth-render")
