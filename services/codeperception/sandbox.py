"""Renders through the sandbox-runner, within the call's deadline.

The remaining deadline is the RPC's timeout, and the render's own wall-clock limit is
cut to it too, so an expired or cancelled call does not leave the program running in
the sandbox past it. A full pool (RESOURCE_EXHAUSTED) is waited out as its retry hint
advises, for at most the retry budget and never past the deadline; after that the
error goes to the caller with the hint. Every other refusal is mapped by grpc_errors.
"""
from __future__ import annotations

import asyncio
import time

import grpc

from services.common import grpc_errors
from services.common.errors import ErrorCode, PerceptError
from services.common.grpc_channels import MAX_MESSAGE_BYTES, ROUND_ROBIN, channel_options

from .deadline import Deadline
from .metrics import Metrics
from .protos import sandbox_pb2, sandbox_pb2_grpc

DEFAULT_RETRY_S = 0.1  # when a RESOURCE_EXHAUSTED carries no hint


def bounded(request: sandbox_pb2.RenderRequest, deadline: Deadline,
            default_timeout_s: float) -> sandbox_pb2.RenderRequest:
    """The request with its wall-clock limit cut to the time the call has left (a copy when cut)."""
    left = deadline.require("rendering")
    asked = request.options.timeout_seconds or default_timeout_s
    if left >= asked:
        return request
    cut = sandbox_pb2.RenderRequest()
    cut.CopyFrom(request)
    cut.options.timeout_seconds = left
    return cut


class SandboxRenderer:
    def __init__(self, url: str, *, default_timeout_s: float, sandbox_retry_s: float, metrics: Metrics) -> None:
        # Balanced per render over every sandbox pod the URL resolves to (helm: a headless Service).
        self.channel = grpc.aio.insecure_channel(url, options=[*channel_options(MAX_MESSAGE_BYTES),
                                                               ROUND_ROBIN])
        self.stub = sandbox_pb2_grpc.SandboxServiceStub(self.channel)
        self.default_timeout_s = default_timeout_s
        self.sandbox_retry_s = sandbox_retry_s
        self.metrics = metrics

    async def render(self, request: sandbox_pb2.RenderRequest, deadline: Deadline) -> sandbox_pb2.RenderResponse:
        started = time.monotonic()
        retry_until = started + self.sandbox_retry_s
        status = "refused"
        try:
            while True:
                attempt = bounded(request, deadline, self.default_timeout_s)
                try:
                    response = await self.stub.Render(attempt, timeout=deadline.remaining())
                    status = sandbox_pb2.RenderStatus.Name(response.status).removeprefix("RENDER_STATUS_").lower()
                    return response
                except grpc.aio.AioRpcError as error:
                    fault = self._fault(error)
                    wait = fault.retry_after_s if fault.retry_after_s is not None else DEFAULT_RETRY_S
                    if (fault.code is ErrorCode.RESOURCE_EXHAUSTED and time.monotonic() + wait <= retry_until
                            and wait < deadline.remaining()):
                        await asyncio.sleep(wait)
                        continue
                    raise fault from None
        finally:
            self.metrics.render_seconds.labels(status).observe(time.monotonic() - started)

    @staticmethod
    def _fault(error: grpc.aio.AioRpcError) -> PerceptError:
        if error.code() is grpc.StatusCode.DEADLINE_EXCEEDED:
            return PerceptError(ErrorCode.DEADLINE_EXCEEDED, "the deadline passed while rendering")
        return grpc_errors.from_rpc_error(error, upstream="sandbox")

    async def close(self) -> None:
        await self.channel.close()
