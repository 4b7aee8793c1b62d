"""The gRPC face of the pool: proto <-> plain data, pool errors -> status codes."""
from __future__ import annotations

import logging

import grpc

from ..errors import InvalidRequest, QueueFull, SandboxUnavailable
from ..pool import SandboxPool
from ..render.results import ImageFormat, RenderOptions, RenderResult, Status
from .protos import ERROR_CODE_KEY, RETRY_AFTER_KEY, sandbox_pb2, sandbox_pb2_grpc

LOG = logging.getLogger("percept_sandbox.grpc")

_FORMATS = {
    sandbox_pb2.IMAGE_FORMAT_UNSPECIFIED: ImageFormat.PNG,
    sandbox_pb2.IMAGE_FORMAT_PNG: ImageFormat.PNG,
    sandbox_pb2.IMAGE_FORMAT_SVG: ImageFormat.SVG,
}
_FORMAT_TO_PROTO = {ImageFormat.PNG: sandbox_pb2.IMAGE_FORMAT_PNG, ImageFormat.SVG: sandbox_pb2.IMAGE_FORMAT_SVG}
_STATUS_TO_PROTO = {status: sandbox_pb2.RenderStatus.Value(f"RENDER_STATUS_{status.value}") for status in Status}


def options_from_proto(options: sandbox_pb2.RenderOptions) -> RenderOptions:
    if options.format not in _FORMATS:
        raise InvalidRequest("invalid_request", f"unknown image format {options.format}")
    return RenderOptions(
        dpi=options.dpi or 100,
        format=_FORMATS[options.format],
        timeout_s=options.timeout_seconds or None,
        trace=not options.omit_trace,
    )


def result_to_proto(result: RenderResult) -> sandbox_pb2.RenderResponse:
    return sandbox_pb2.RenderResponse(
        status=_STATUS_TO_PROTO[result.status],
        figures=[sandbox_pb2.Figure(index=f.index, format=_FORMAT_TO_PROTO[f.format], data=f.data,
                                    width_px=f.width_px, height_px=f.height_px) for f in result.figures],
        stdout=sandbox_pb2.OutputTail(text=result.stdout_tail, total_bytes=result.stdout_bytes),
        stderr=sandbox_pb2.OutputTail(text=result.stderr_tail, total_bytes=result.stderr_bytes),
        error=sandbox_pb2.ExecError(type=result.error_type, message=result.error_message),
        usage=sandbox_pb2.Usage(wall_seconds=result.wall_s, cpu_seconds=result.cpu_s,
                                peak_memory_bytes=result.peak_memory_bytes),
        trace_json=result.trace_json,
        detail=result.detail,
    )


class SandboxServicer(sandbox_pb2_grpc.SandboxServiceServicer):
    def __init__(self, pool: SandboxPool) -> None:
        self.pool = pool

    def Render(self, request: sandbox_pb2.RenderRequest, context: grpc.ServicerContext) -> sandbox_pb2.RenderResponse:
        try:
            options = options_from_proto(request.options)
            result = self.pool.render(request.code, options)
        except InvalidRequest as exc:
            context.set_trailing_metadata(((ERROR_CODE_KEY, exc.code),))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except QueueFull as exc:
            context.set_trailing_metadata(((ERROR_CODE_KEY, "resource_exhausted"),
                                           (RETRY_AFTER_KEY, str(exc.retry_after_ms))))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except SandboxUnavailable as exc:
            context.set_trailing_metadata(((ERROR_CODE_KEY, "upstream_unavailable"),
                                           (RETRY_AFTER_KEY, str(exc.retry_after_ms))))
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        LOG.info("render request_id=%s status=%s figures=%d wall=%.3fs", request.request_id or "-",
                 result.status.value, len(result.figures), result.wall_s)
        return result_to_proto(result)
