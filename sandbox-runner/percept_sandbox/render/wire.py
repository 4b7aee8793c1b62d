"""Framing on the runner's local sockets.

* control channel (pool <-> zygote): a SOCK_SEQPACKET socket; one JSON object per
  packet, file descriptors riding along as SCM_RIGHTS.
* render channel (pool <-> one jailed child): a stream socket carrying
  length-prefixed frames. The child is untrusted, so the pool reads everything it
  sends against a byte budget and parses it defensively.
"""
from __future__ import annotations

import json
import socket
import struct

_LENGTH = struct.Struct(">I")
MAX_CONTROL_PACKET = 64 * 1024
MAX_CONTROL_FDS = 8


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed message."""


def send_message(sock: socket.socket, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
    payload = json.dumps(message, separators=(",", ":")).encode()
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.send(payload)


def recv_message(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """(message, fds); (None, []) at end of stream."""
    payload, fds, _flags, _addr = socket.recv_fds(sock, MAX_CONTROL_PACKET, MAX_CONTROL_FDS)
    if not payload:
        for fd in fds:
            _close_quietly(fd)
        return None, []
    try:
        message = json.loads(payload)
    except ValueError as exc:
        for fd in fds:
            _close_quietly(fd)
        raise ProtocolError(f"bad control message: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("control message is not an object")
    return message, fds


def _close_quietly(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass


def frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def send_frames(sock: socket.socket, payloads: list[bytes]) -> None:
    sock.sendall(b"".join(frame(p) for p in payloads))


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Exactly `size` bytes, or None if the stream ends first."""
    chunks = []
    remaining = size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, max_size: int) -> bytes | None:
    header = recv_exact(sock, _LENGTH.size)
    if header is None:
        return None
    (size,) = _LENGTH.unpack(header)
    if size > max_size:
        raise ProtocolError(f"frame of {size} bytes exceeds {max_size}")
    payload = recv_exact(sock, size)
    if payload is None:
        raise ProtocolError("stream ended inside a frame")
    return payload


def split_frames(buffer: bytes, max_frames: int) -> list[bytes]:
    """All complete frames of a finished stream; raises ProtocolError on leftovers."""
    frames = []
    offset = 0
    while offset < len(buffer):
        if len(frames) >= max_frames:
            raise ProtocolError("too many frames")
        if offset + _LENGTH.size > len(buffer):
            raise ProtocolError("truncated frame header")
        (size,) = _LENGTH.unpack_from(buffer, offset)
        offset += _LENGTH.size
        if offset + size > len(buffer):
            raise ProtocolError("truncated frame")
        frames.append(buffer[offset:offset + size])
        offset += size
    return frames
