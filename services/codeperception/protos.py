"""The generated gRPC stubs of percept.codeperception.v1 (built by `make protos`).

protoc names the modules after the proto package, and the code-perception proto
imports the sandbox's (`percept.sandbox.v1.sandbox_pb2`). Importing percept_sandbox.api
first puts the sandbox's stub directory on sys.path; this one is appended after it.
Neither directory has a `percept/__init__.py`, so both `percept` trees merge as one
namespace package:

    from services.codeperception.protos import codeperception_pb2, codeperception_pb2_grpc, sandbox_pb2
"""
from __future__ import annotations

import os
import sys

from percept_sandbox.api import sandbox_pb2, sandbox_pb2_grpc  # noqa: F401 - must come first (see above)

_STUBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_proto")
if not os.path.isfile(os.path.join(_STUBS, "percept", "codeperception", "v1", "codeperception_pb2.py")):
    raise ImportError("the code-perception gRPC stubs are missing: run `make protos`")
if _STUBS not in sys.path:
    sys.path.append(_STUBS)

from percept.codeperception.v1 import codeperception_pb2, codeperception_pb2_grpc  # noqa: E402

SERVICE_NAME = codeperception_pb2.DESCRIPTOR.services_by_name["CodePerceptionService"].full_name

__all__ = ["codeperception_pb2", "codeperception_pb2_grpc", "sandbox_pb2", "sandbox_pb2_grpc", "SERVICE_NAME"]
