"""Environment variables of the gateway (component "gateway")."""
from __future__ import annotations

from services.common.settings import env, parse_csv

COMPONENT = "gateway"

HOST = env("PERCEPT_GATEWAY_HOST", "127.0.0.1", "Address the gateway binds to (0.0.0.0 in a pod).",
           component=COMPONENT)
PORT = env("PERCEPT_GATEWAY_PORT", 8080, "Gateway HTTP port.", component=COMPONENT)
WORKERS = env("PERCEPT_GATEWAY_WORKERS", 1, "uvicorn worker processes.", component=COMPONENT)
TRITON_URL = env("PERCEPT_TRITON_URL", "127.0.0.1:8001", "Triton gRPC endpoint the gateway calls (host:port).",
                 component=COMPONENT)
TRITON_TIMEOUT_S = env("PERCEPT_TRITON_TIMEOUT_S", 60.0, "Deadline of one Triton inference call, in seconds.",
                       component=COMPONENT)
TRITON_RETRIES = env("PERCEPT_TRITON_RETRIES", 2,
                     "Retries of a Triton call that failed to connect (never of one that reached a model).",
                     component=COMPONENT)
TRITON_RETRY_BACKOFF_S = env("PERCEPT_TRITON_RETRY_BACKOFF_S", 0.2,
                             "First retry delay in seconds; doubles on each retry.", component=COMPONENT)
RETRY_AFTER_S = env("PERCEPT_GATEWAY_RETRY_AFTER_S", 2,
                    "Retry-After seconds sent with 503 and 429 answers.", component=COMPONENT)
API_KEYS = env("PERCEPT_API_KEYS", (), "Comma-separated API keys; empty turns auth off. Sent as "
               "`Authorization: Bearer <key>` or `X-API-Key`.", component=COMPONENT, parse=parse_csv)
HEATMAP_MAX_SIDE = env("PERCEPT_HEATMAP_MAX_SIDE", 1024,
                       "Longest side of a returned PNG heatmap, in pixels.", component=COMPONENT)
BOX_THRESHOLD = env("PERCEPT_BOX_THRESHOLD", 0.2,
                    "Default cosine-similarity threshold for boxes (the upstream binarisation value).",
                    component=COMPONENT)
MAX_TILES = env("PERCEPT_MAX_TILES", 12, "Largest tile grid a request may ask for.", component=COMPONENT)
LOG_LEVEL = env("PERCEPT_LOG_LEVEL", "info", "Log level of the gateway.", component=COMPONENT)
