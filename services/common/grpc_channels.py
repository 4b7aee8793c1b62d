"""Options of every gRPC channel a percept service opens to another.

gRPC's reconnect backoff grows to 120 s by default, so a channel could stay down long
after its server restarts; capped at 1 s, a client is back within about a second. The
message limits are raised per caller (gRPC's default receive limit is 4 MiB).
"""
from __future__ import annotations

RECONNECT_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def channel_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            *RECONNECT_OPTIONS]
