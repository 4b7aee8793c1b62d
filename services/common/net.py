"""Small network helpers for starting and probing local processes."""
from __future__ import annotations

import socket
import urllib.error
import urllib.request

# Where a client looks for a component when it is told nothing else: the same machine, on the port
# the component's own settings declare (each port is defined once, by the component that binds it).
LOCAL_HOST = "127.0.0.1"


def local_address(port: int) -> str:
    """host:port of a component on this machine, as a gRPC target or a URL setting takes it."""
    return f"{LOCAL_HOST}:{port}"


def find_free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the kernel considers free right now (all held open together, so distinct)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
