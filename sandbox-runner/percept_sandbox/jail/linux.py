"""Thin ctypes wrappers over the Linux calls the jail needs and Python 3.11 lacks.

Only x86-64 and aarch64 are supported (the syscall numbers below). Every wrapper
raises OSError with the kernel's errno, like the os module does.
"""
from __future__ import annotations

import ctypes
import os
import platform

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

CLONE_THREAD = 0x00010000
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_MACHINE = platform.machine()
_SYSCALLS = {
    "x86_64": {"clone": 56, "pivot_root": 155, "capset": 126},
    "aarch64": {"clone": 220, "pivot_root": 41, "capset": 91},
}
if _MACHINE not in _SYSCALLS:  # pragma: no cover - only reached on other architectures
    raise ImportError(f"percept_sandbox supports x86_64 and aarch64, not {_MACHINE}")
_NR = _SYSCALLS[_MACHINE]


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def clone(flags: int) -> int:
    """fork() that creates the child directly inside new namespaces.

    Python's os.fork() cannot take clone flags, and unshare(CLONE_NEWPID) only
    affects the caller's *next* child, which would cost a second fork of this large
    process. The raw syscall with a NULL stack behaves like fork(); CPython's own
    before/after-fork hooks keep the interpreter consistent, as os.fork() does.
    Must only be called from a single-threaded process.
    """
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    # x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
    # aarch64 order: flags, stack, parent_tid, tls, child_tid. All but flags are 0.
    pid = _libc.syscall(_NR["clone"], ctypes.c_ulong(flags | 17), None, None, None, None)  # 17 = SIGCHLD
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, os.strerror(err))
    return pid


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags))


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None))


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(target.encode(), flags))


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(_NR["pivot_root"], new_root.encode(), put_old.encode()))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5))


def set_parent_death_signal(signum: int) -> None:
    prctl(PR_SET_PDEATHSIG, signum)


def set_dumpable(dumpable: bool) -> None:
    prctl(PR_SET_DUMPABLE, 1 if dumpable else 0)


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_all_capabilities() -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable sets."""
    last_cap = 63
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last_cap = int(handle.read())
    except OSError:
        pass  # no /proc inside the jail: drop every possible bit
    for cap in range(last_cap + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno != 22:  # EINVAL: the kernel has no such capability
                raise
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass  # kernels before 4.3 have no ambient set
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.syscall(_NR["capset"], ctypes.byref(header), ctypes.byref(data)))


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def load_seccomp_bpf(program: bytes) -> None:
    """Install a compiled classic-BPF seccomp program (needs no_new_privs first)."""
    count = len(program) // ctypes.sizeof(_SockFilter)
    instructions = (_SockFilter * count).from_buffer_copy(program)
    prog = _SockFprog(count, instructions)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0))

