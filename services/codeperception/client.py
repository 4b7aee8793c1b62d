"""A small async client of the code-perception service (what the gateway uses).

Methods mirror the RPCs and take / return the proto messages (a request's `request_id`
field carries the caller's id into the service's log lines); a refused call raises
`PerceptError` with the server's stable code and retry hint (services.common.grpc_errors),
so a caller maps it to HTTP through the one error table.

    async with CodePerceptionClient("127.0.0.1:50071") as client:
        response = await client.image_to_code(pb.ImageToCodeRequest(image=png), timeout_s=120)
"""
from __future__ import annotations

from typing import AsyncIterator

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import grpc_errors
from services.common.grpc_channels import MAX_MESSAGE_BYTES, METADATA_TIMEOUT_S, channel_options

from .protos import SERVICE_NAME, codeperception_pb2, codeperception_pb2_grpc, sandbox_pb2

UPSTREAM = "code-perception"


class CodePerceptionClient:
    def __init__(self, url: str, *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.url = url
        self.channel = grpc.aio.insecure_channel(url, options=channel_options(max_message_bytes))
        self.stub = codeperception_pb2_grpc.CodePerceptionServiceStub(self.channel)

    async def _unary(self, method, request, timeout_s: float | None):
        try:
            return await method(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            raise grpc_errors.from_rpc_error(error, upstream=UPSTREAM) from None

    async def image_to_code(self, request: codeperception_pb2.ImageToCodeRequest, *,
                            timeout_s: float | None = None) -> codeperception_pb2.ImageToCodeResponse:
        return await self._unary(self.stub.ImageToCode, request, timeout_s)

    async def image_to_code_stream(
            self, request: codeperception_pb2.ImageToCodeRequest, *,
            timeout_s: float | None = None) -> AsyncIterator[codeperception_pb2.ImageToCodeEvent]:
        """Progress events, then one event holding the result. Closing the iterator cancels the call."""
        call = self.stub.ImageToCodeStream(request, timeout=timeout_s)
        try:
            async for event in call:
                yield event
        except grpc.aio.AioRpcError as error:
            raise grpc_errors.from_rpc_error(error, upstream=UPSTREAM) from None
        finally:
            call.cancel()

    async def render(self, request: sandbox_pb2.RenderRequest, *,
                     timeout_s: float | None = None) -> sandbox_pb2.RenderResponse:
        return await self._unary(self.stub.Render, request, timeout_s)

    async def score(self, request: codeperception_pb2.ScoreRequest, *,
                    timeout_s: float | None = None) -> codeperception_pb2.ScoreResponse:
        return await self._unary(self.stub.Score, request, timeout_s)

    async def generator(self, *, timeout_s: float = METADATA_TIMEOUT_S) -> codeperception_pb2.Generator:
        """The backend and model the service generates with."""
        return await self._unary(self.stub.GetGenerator, codeperception_pb2.GetGeneratorRequest(), timeout_s)

    async def serving(self, timeout_s: float = METADATA_TIMEOUT_S) -> bool:
        """grpc.health.v1 says SERVING (for a readiness check)."""
        try:
            reply = await health_pb2_grpc.HealthStub(self.channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=timeout_s)
        except grpc.aio.AioRpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> "CodePerceptionClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
