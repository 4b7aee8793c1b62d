"""Finishing a child's jail, while it waits to be used (none of this is on the critical path).

    private /tmp, hostname -> clean environment, caches, logging -> rlimits
    -> drop capabilities -> no_new_privs -> seccomp (no new processes from here on)
    -> the interpreter's own process calls refused -> pre-faulting
"""
from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import sys
from dataclasses import dataclass

from ..config import SandboxConfig
from ..render.protocol import FILENAME
from . import caches, filesystem, linux, prefault, processes


@dataclass(frozen=True)
class ChildPlan:
    """The same for every child of one zygote: the configuration and what the zygote set up."""

    config: SandboxConfig
    isolated: bool  # namespaces and the jail filesystem
    seccomp_program: bytes | None
    env: dict
    scratch_root: str  # insecure mode only: where private working directories go
    prefault_ranges: tuple = ()  # (start, length) of the pages every render writes
    tmp_shadows: tuple = ()  # (alias, path, is_dir): jail paths under /tmp to bind back over the tmpfs


def reset_signals() -> None:
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over-long files fail with EFBIG instead


def arrange_descriptors(render_fd: int, stdout_fd: int, stderr_fd: int, channel_fd: int) -> None:
    """0 = /dev/null, 1/2 = pipes to the pool, channel_fd = render channel; nothing else stays open."""
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.dup2(render_fd, channel_fd)
    os.closerange(channel_fd + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    for fd in (0, 1, 2, channel_fd):
        os.set_inheritable(fd, True)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stdin = open(0, "r", closefd=False)


def _apply_rlimits(config: SandboxConfig) -> None:
    limits = {
        resource.RLIMIT_AS: config.address_space_bytes,
        resource.RLIMIT_FSIZE: config.file_bytes,
        resource.RLIMIT_NPROC: config.processes,
        resource.RLIMIT_NOFILE: config.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_MEMLOCK: 0,
        resource.RLIMIT_MSGQUEUE: 0,
        resource.RLIMIT_CPU: config.max_cpu_s,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def _enter_insecure_scratch(plan: ChildPlan) -> str:
    """Without namespaces: a private working directory and, as root, the jail's identity."""
    scratch = os.path.join(plan.scratch_root, str(os.getpid()))
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(scratch, plan.config.jail_uid, plan.config.jail_gid)
        os.setgroups([])
        os.setresgid(plan.config.jail_gid, plan.config.jail_gid, plan.config.jail_gid)
        os.setresuid(plan.config.jail_uid, plan.config.jail_uid, plan.config.jail_uid)
    return scratch


def _forget_runner_logging() -> None:
    """The zygote's log handlers write to fd 2, now the program's stderr: a render's
    stderr holds what the program wrote, so logging starts as in a fresh interpreter."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def prepare(plan: ChildPlan) -> str:
    """Finish the jail; returns the working directory. Runs before the child is offered."""
    if plan.isolated:
        filesystem.mount_private_tmp(plan.config.tmpfs_bytes, plan.tmp_shadows)
        socket.sethostname("sandbox")
        workdir = filesystem.JAIL_TMP
    else:
        workdir = _enter_insecure_scratch(plan)
    os.setsid()  # no controlling terminal to push input into
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(plan.env)
    os.environ.update(caches.cache_environment(workdir))
    caches.point_matplotlib_caches(workdir)
    _forget_runner_logging()
    sys.argv = [FILENAME]
    _apply_rlimits(plan.config)
    if plan.isolated:
        linux.drop_all_capabilities()
    linux.set_no_new_privs()
    if plan.seccomp_program:
        linux.load_seccomp_bpf(plan.seccomp_program)
    processes.refuse_process_creation()
    prefault.populate(plan.prefault_ranges)  # copy-on-write now, not while the program runs
    return workdir
