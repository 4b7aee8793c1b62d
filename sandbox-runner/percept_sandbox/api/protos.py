"""The generated gRPC stubs of percept.sandbox.v1 (built by `make protos`).

protoc names the modules after the proto package (`percept.sandbox.v1`), so the
directory holding them goes on sys.path once; import the stubs from here:

    from percept_sandbox.api import sandbox_pb2, sandbox_pb2_grpc  (or from .protos inside api/)
"""
from __future__ import annotations

import os
import sys

_STUBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_proto")
if not os.path.isfile(os.path.join(_STUBS, "percept", "sandbox", "v1", "sandbox_pb2.py")):
    raise ImportError("the sandbox gRPC stubs are missing: run `make protos`")
if _STUBS not in sys.path:
    sys.path.append(_STUBS)

from percept.sandbox.v1 import sandbox_pb2, sandbox_pb2_grpc  # noqa: E402

SERVICE_NAME = sandbox_pb2.DESCRIPTOR.services_by_name["SandboxService"].full_name
ERROR_CODE_KEY = "percept-error-code"
RETRY_AFTER_KEY = "retry-after-ms"

__all__ = ["sandbox_pb2", "sandbox_pb2_grpc", "SERVICE_NAME", "ERROR_CODE_KEY", "RETRY_AFTER_KEY"]
