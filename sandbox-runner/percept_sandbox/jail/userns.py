"""User namespaces: how the zygote and each child get their identities.

The zygote runs as root *inside* its own user namespace, mapped to one
unprivileged host id (the jail uid when started as root, else its own uid). Each
child gets a nested namespace whose root maps to that same host id, so nothing
a child does is done as the host's root, whatever the runner runs as.
"""
from __future__ import annotations

import os

from . import linux


class IsolationError(Exception):
    pass


class JailUnreachable(IsolationError):
    """Insecure mode: the jail identity cannot reach files a render needs (no fallback helps)."""


def _write(path: str, content: str, dir_fd: int | None = None) -> None:
    fd = os.open(path, os.O_WRONLY, dir_fd=dir_fd)
    try:
        os.write(fd, content.encode())
    finally:
        os.close(fd)


def enter_user_namespace(outer_uid: int, outer_gid: int) -> None:
    """unshare(user + mount) and become uid/gid 0 inside, mapped to an unprivileged host id.

    Started as root, the zygote maps to the configured jail id: only a process
    outside the new namespace may write such a map, so a short-lived helper does.
    Started as anyone else, it maps to itself.
    """
    if os.geteuid() == 0:
        os.setgroups([])
        ready_r, ready_w = os.pipe()
        helper = os.fork()
        if helper == 0:
            code = 1
            try:
                os.close(ready_w)
                if os.read(ready_r, 1) == b"u":
                    parent = os.getppid()
                    _write(f"/proc/{parent}/uid_map", f"0 {outer_uid} 1")
                    _write(f"/proc/{parent}/gid_map", f"0 {outer_gid} 1")
                    code = 0
            finally:
                os._exit(code)
        os.close(ready_r)
        try:
            linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS)
            os.write(ready_w, b"u")
        finally:
            os.close(ready_w)
            _, status = os.waitpid(helper, 0)
        if status != 0:
            raise IsolationError("could not write the zygote's id maps")
    else:
        uid, gid = os.geteuid(), os.getegid()
        linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")


def write_own_id_maps(proc_fd: int) -> None:
    """In a fresh child namespace: be its root, i.e. the zygote's (unprivileged) identity.

    The zygote changed its uids, which made it and its children non-dumpable, so
    their /proc files belong to the host's root. The child makes itself dumpable
    just long enough to write its own maps through the zygote's /proc descriptor.
    """
    linux.set_dumpable(True)
    try:
        _write("self/setgroups", "deny", dir_fd=proc_fd)
        _write("self/uid_map", "0 0 1", dir_fd=proc_fd)
        _write("self/gid_map", "0 0 1", dir_fd=proc_fd)
    finally:
        linux.set_dumpable(False)


def become_namespace_root() -> None:
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
