"""`percept-sandbox serve`: the gRPC server, health, reflection and /metrics."""
from __future__ import annotations

import faulthandler
import logging
import signal
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import REGISTRY, disable_created_metrics, start_http_server

from ..config import SandboxConfig
from ..isolation import describe
from ..pool import SandboxPool
from ..pool.metrics import Metrics
from .grpc_service import SandboxServicer
from .protos import SERVICE_NAME, sandbox_pb2, sandbox_pb2_grpc

LOG = logging.getLogger("percept_sandbox.server")
HEALTH_POLL_S = 1.0
STOP_GRACE_S = 10.0
# A shutdown that takes longer than this prints every thread's stack to stderr (the log), so a
# stop that hangs says where; nothing is in flight by then but renders within their grace.
SHUTDOWN_STACKS_AFTER_S = STOP_GRACE_S + 10.0
SIGNAL_POLL_S = 0.5   # how often the main thread wakes to run a pending signal's handler


def _watch_health(pool: SandboxPool, servicer: health.HealthServicer, stop: threading.Event) -> None:
    """Mirror the pool's state into grpc.health.v1 (NOT_SERVING while the zygote restarts)."""
    last = None
    while not stop.is_set():
        status = health_pb2.HealthCheckResponse.SERVING if pool.healthy else health_pb2.HealthCheckResponse.NOT_SERVING
        if status != last:
            for name in ("", SERVICE_NAME):
                servicer.set(name, status)
            last = status
        stop.wait(HEALTH_POLL_S)


def serve(config: SandboxConfig, host: str, port: int, metrics_host: str, metrics_port: int) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit status."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    disable_created_metrics()  # only the series that are asked for
    metrics = Metrics(REGISTRY)
    pool = SandboxPool(config, metrics)
    pool.start()  # raises IsolationUnavailable: the caller reports it and exits non-zero
    LOG.info("%s", describe(config.isolation, pool.layers))
    if config.isolation == "pod" and not pool.layers.get("read_only_root"):
        LOG.warning("isolation mode pod expects a read-only root filesystem (readOnlyRootFilesystem: true); "
                    "this one is writable")
    http_server = None
    server = None
    try:
        http_server, _thread = start_http_server(metrics_port, addr=metrics_host, registry=REGISTRY)
        message_limit = config.max_image_bytes + config.max_trace_bytes + 4 * 1024 * 1024
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.workers + config.queue_size + 8,
                                       thread_name_prefix="grpc"),
            options=[("grpc.max_receive_message_length", max(16 * 1024 * 1024, 2 * config.max_code_bytes)),
                     ("grpc.max_send_message_length", message_limit),
                     # Clients reconnect (and re-resolve DNS) now and then, so a pool that scaled out is
                     # used; a render in flight has its longest timeout to finish on the old connection.
                     ("grpc.max_connection_age_ms", int(config.max_connection_age_s * 1000)),
                     ("grpc.max_connection_age_grace_ms", int((config.max_timeout_s + STOP_GRACE_S) * 1000))])
        sandbox_pb2_grpc.add_SandboxServiceServicer_to_server(SandboxServicer(pool), server)
        health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        bound = server.add_insecure_port(f"{host}:{port}")
        if bound == 0:
            raise OSError(f"could not bind the gRPC port {host}:{port}")
        server.start()
        threading.Thread(target=_watch_health, args=(pool, health_servicer, stop), daemon=True,
                         name="health").start()
        LOG.info("serving percept.sandbox.v1 on %s:%d, metrics on http://%s:%d/metrics (workers=%d, queue=%d)",
                 host, bound, metrics_host, metrics_port, config.workers, config.queue_size)
        # Wake now and then: Python runs a signal's handler in the main thread only, and a SIGTERM that the
        # kernel hands to another thread (gRPC's) does not interrupt a wait without a timeout, so the handler
        # would not run until something else woke this thread.
        while not stop.wait(SIGNAL_POLL_S):
            pass
        LOG.info("shutting down")
        faulthandler.dump_traceback_later(SHUTDOWN_STACKS_AFTER_S, exit=False)
        health_servicer.enter_graceful_shutdown()
        server.stop(STOP_GRACE_S).wait()
        server = None
        return 0
    finally:
        if server is not None:
            server.stop(0)
        pool.close()  # kills the zygote and, through it, every jailed child
        if http_server is not None:
            http_server.shutdown()
        LOG.info("stopped")
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["serve", "sandbox_pb2"]
