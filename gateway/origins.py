"""Origins (`scheme://host[:port]`): how the image-URL allow-list names the servers the gateway may
fetch from, and how a URL is matched against it.

An origin, not a URL prefix: `https://img.example.com` must not also admit
`https://img.example.com.evil.net` or `https://user@img.example.com`.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from services.common.settings import parse_csv

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host:port` of an http(s) URL (lower-case, port explicit); None if it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    return f"{scheme}://{parts.hostname.lower()}:{port or _DEFAULT_PORTS[scheme]}"


def parse_origins(raw: str) -> tuple[str, ...]:
    """The allow-list variable: comma-separated origins, each without path, query or credentials."""
    origins = []
    for entry in parse_csv(raw):
        origin = origin_of(entry)
        parts = urlsplit(entry)
        if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{entry!r} is not an origin like https://host or https://host:8443")
        origins.append(origin)
    return tuple(origins)


def allowed(url: str, origins: tuple[str, ...]) -> bool:
    origin = origin_of(url)
    return origin is not None and origin in origins
