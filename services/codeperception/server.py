"""The code-perception gRPC server: the service, grpc.health.v1, reflection and /metrics.

Start-up order: settings (checked by __main__), the backend's own check (its dataset, its
endpoint settings, or a Triton model implementing the generation contract), then the gRPC
port, then /metrics -- which devstack takes as "healthy", so healthy means able to serve.
"""
from __future__ import annotations

import asyncio
import logging
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import REGISTRY, disable_created_metrics, start_http_server

from services.common.grpc_channels import MAX_MESSAGE_BYTES

from .backends import BackendUnavailable, create_backend
from .metrics import Metrics
from .protos import SERVICE_NAME, codeperception_pb2_grpc
from .sandbox import SandboxRenderer
from .service import CodePerceptionServicer
from .settings import CodePerceptionSettings

LOG = logging.getLogger("percept.codeperception.server")
STOP_GRACE_S = 10.0
# Room beyond the largest image for the rest of a request (options, code).
MESSAGE_MARGIN_BYTES = 1024 * 1024


async def serve(settings: CodePerceptionSettings) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit status."""
    disable_created_metrics()
    metrics = Metrics(REGISTRY)
    backend = create_backend(settings)
    try:
        await backend.start()
    except BackendUnavailable as exc:
        LOG.error("not starting: %s", exc)
        await backend.close()
        return 3
    renderer = SandboxRenderer(settings.sandbox_url, default_timeout_s=settings.render_timeout_s,
                               sandbox_retry_s=settings.sandbox_retry_s, metrics=metrics)
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", settings.max_image_bytes + settings.max_code_bytes * 2
         + MESSAGE_MARGIN_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)])
    codeperception_pb2_grpc.add_CodePerceptionServiceServicer_to_server(
        CodePerceptionServicer(settings, backend, renderer, metrics), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    http_server = None
    try:
        bound = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
        if bound == 0:
            raise OSError(f"could not bind the gRPC port {settings.grpc_host}:{settings.grpc_port}")
        await server.start()
        for name in ("", SERVICE_NAME):
            await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        http_server, _thread = start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=REGISTRY)
        LOG.info("serving percept.codeperception.v1 on %s:%d (backend %s, model %s, sandbox %s), metrics on "
                 "http://%s:%d/metrics", settings.grpc_host, bound, backend.name, backend.model,
                 settings.sandbox_url, settings.metrics_host, settings.metrics_port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        LOG.info("shutting down")
        await health_servicer.enter_graceful_shutdown()
        await server.stop(STOP_GRACE_S)
        return 0
    finally:
        await server.stop(0)
        if http_server is not None:
            http_server.shutdown()
        await renderer.close()
        await backend.close()
