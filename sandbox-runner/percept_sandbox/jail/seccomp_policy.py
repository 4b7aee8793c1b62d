"""The seccomp filter of a jailed render.

Default allow, with a deny list aimed at the ways out of the jail: network
sockets, debugging other processes, mounts and namespaces, kernel-level
interfaces, running any other program, and creating processes. Denied calls fail with EPERM, so
plotting code that merely probes (say, a library checking the network) gets an
ordinary error instead of a dead process. Calls of a foreign architecture
(i386, x32) kill the process, which is libseccomp's default.

The filter is compiled once in the zygote and each child loads the compiled
program with one prctl, which keeps libseccomp's compiler off the render path.
"""
from __future__ import annotations

import errno
import os
import socket

from . import linux

PROCESS_CREATION_ERRNO = errno.EPERM  # what fork/vfork/clone of a new process answer in a render
TIOCSTI = 0x5412  # push bytes into a terminal's input queue (CVE-2017-5226)
TIOCLINUX = 0x541C

# Denied outright.
DENIED_SYSCALLS = (
    # running another program
    "execve", "execveat",
    # inspecting or controlling other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # filesystems and namespaces
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at",
    # kernel interfaces
    "kexec_load", "kexec_file_load", "bpf", "init_module", "finit_module", "delete_module",
    "keyctl", "add_key", "request_key", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm",
    "lookup_dcookie", "uselib", "vhangup", "personality",
)


def build_filter():
    """The libseccomp filter object (not loaded)."""
    import pyseccomp as seccomp

    deny = seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(deny, name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a syscall on this architecture (e.g. iopl on aarch64)
    # Only AF_UNIX sockets: no network even if an interface appeared.
    flt.add_rule(deny, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    flt.add_rule(deny, "socketpair", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    # A render is one process: threads share its address space, so RLIMIT_AS caps the
    # memory of the whole render. New processes (fork, vfork, and clone without
    # CLONE_THREAD, which covers glibc's posix_spawn with CLONE_VM|CLONE_VFORK) are refused.
    refuse_process = seccomp.ERRNO(PROCESS_CREATION_ERRNO)
    for name in ("fork", "vfork"):
        try:
            flt.add_rule(refuse_process, name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a syscall on this architecture (aarch64 has only clone)
    flt.add_rule(refuse_process, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, linux.CLONE_THREAD, 0))
    # Threads may not create namespaces either.
    for flag in (linux.CLONE_NEWNS, linux.CLONE_NEWCGROUP, linux.CLONE_NEWUTS, linux.CLONE_NEWIPC,
                 linux.CLONE_NEWUSER, linux.CLONE_NEWPID, linux.CLONE_NEWNET):
        flt.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory, out of the filter's sight: report it as
    # missing, and the C library falls back to clone, which the rules above see.
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for request in (TIOCSTI, TIOCLINUX):
        flt.add_rule(deny, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    return flt


def compile_program() -> bytes:
    """The filter as a classic-BPF program, ready for linux.load_seccomp_bpf."""
    flt = build_filter()
    fd = os.memfd_create("percept-seccomp", os.MFD_CLOEXEC)
    with os.fdopen(fd, "w+b") as buffer:
        flt.export_bpf(buffer)
        buffer.seek(0)
        return buffer.read()
