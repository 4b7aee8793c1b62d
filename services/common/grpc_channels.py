"""Options of every gRPC channel a percept service opens to another.

gRPC's reconnect backoff grows to 120 s by default, so a channel could stay down long
after its server restarts; capped at 1 s, a client is back within about a second. The
message limits are raised per caller (gRPC's default receive limit is 4 MiB).
"""
from __future__ import annotations

# Largest message between percept's own services (code perception, its callers, the sandbox):
# room for the sandbox's figures (PERCEPT_SANDBOX_MAX_IMAGE_BYTES) and a request's image. The
# sandbox cannot import this module and keeps a copy (tests/unit/test_one_source.py checks it).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Deadline of a metadata call (health, a model's config, the generator's name): cheap calls, so a
# slower answer means trouble and a readiness probe should say so rather than wait.
METADATA_TIMEOUT_S = 2.0

RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def channel_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            *RECONNECT_OPTIONS]


# Per-request balancing for a pool behind a `dns:///` target (a headless Service): the resolver
# returns every pod and round_robin spreads the calls over them. The default, pick_first, keeps one
# HTTP/2 connection, so every call would land on one pod and new pods would sit idle. With a single
# address (a local stack) round_robin behaves like pick_first.
ROUND_ROBIN = ("grpc.lb_policy_name", "round_robin")
