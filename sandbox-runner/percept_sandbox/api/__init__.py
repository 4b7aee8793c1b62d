"""The runner's faces: gRPC service and server, client, CLI, metrics, and the generated stubs.

The stubs are the stable import path for callers, loaded on first use (so the CLI
and the pool do not pay for gRPC):

    from percept_sandbox.api import sandbox_pb2, sandbox_pb2_grpc
"""
from __future__ import annotations

_FROM_PROTOS = {"sandbox_pb2", "sandbox_pb2_grpc", "SERVICE_NAME", "ERROR_CODE_KEY", "RETRY_AFTER_KEY"}


def __getattr__(name: str):
    if name in _FROM_PROTOS:
        from . import protos

        return getattr(protos, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_FROM_PROTOS)
