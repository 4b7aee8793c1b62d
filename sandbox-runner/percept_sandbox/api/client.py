"""A small typed client for the sandbox service (used by the tests, the benchmark
and any Python caller such as the code-perception service)."""
from __future__ import annotations

import time

import grpc

from .protos import RETRY_AFTER_KEY, sandbox_pb2, sandbox_pb2_grpc

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def retry_after_ms(error: grpc.RpcError) -> int | None:
    """The server's retry hint of a RESOURCE_EXHAUSTED / UNAVAILABLE error, if any."""
    for key, value in error.trailing_metadata() or ():
        if key == RETRY_AFTER_KEY:
            try:
                return int(value)
            except ValueError:
                return None
    return None


class SandboxClient:
    def __init__(self, target: str, *, max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.channel = grpc.insecure_channel(
            target, options=[("grpc.max_receive_message_length", max_response_bytes)])
        self.stub = sandbox_pb2_grpc.SandboxServiceStub(self.channel)

    def render(self, code: str, *, dpi: int = 0, svg: bool = False, timeout_s: float = 0.0,
               omit_trace: bool = False, request_id: str = "", deadline_s: float | None = None,
               retries: int = 0) -> sandbox_pb2.RenderResponse:
        """Render one program; with retries > 0, waits out RESOURCE_EXHAUSTED as the server advises."""
        request = sandbox_pb2.RenderRequest(
            code=code, request_id=request_id,
            options=sandbox_pb2.RenderOptions(
                dpi=dpi, timeout_seconds=timeout_s, omit_trace=omit_trace,
                format=sandbox_pb2.IMAGE_FORMAT_SVG if svg else sandbox_pb2.IMAGE_FORMAT_PNG))
        attempt = 0
        while True:
            try:
                return self.stub.Render(request, timeout=deadline_s)
            except grpc.RpcError as error:
                if attempt >= retries or error.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                attempt += 1
                time.sleep((retry_after_ms(error) or 100) / 1000)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "SandboxClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
