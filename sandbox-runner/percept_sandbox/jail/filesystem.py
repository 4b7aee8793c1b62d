"""The jail's view of the filesystem.

The zygote builds it once, inside its own user and mount namespaces: a small
read-only tmpfs becomes the root, and only what plotting code needs is
bind-mounted into it, read-only, at the same paths as on the host (the Python
standard library and site-packages, shared libraries, fonts, time zones, the
prepared matplotlib cache). Nothing else of the host exists in the jail: no
/proc, /sys, /etc (but the loader cache), /home, /root or /var. Each render's
child then mounts its own size-capped tmpfs at /tmp, which dies with it.
"""
from __future__ import annotations

import os
import site
import stat
import sysconfig
from dataclasses import dataclass, field

from . import linux

JAIL_MPLCONFIGDIR = "/run/mplconfig"
# Each child mounts its private tmpfs over /tmp. Host paths the jail needs that live under
# /tmp (a checkout or virtual environment there) get a second, read-only bind here, from
# which the child binds them back over its fresh tmpfs.
JAIL_TMP_SHADOWS = "/run/tmp-shadows"
JAIL_TMP = "/tmp"
DEVICES = ("null", "zero", "random", "urandom")

_LIBRARY_DIRS = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib")
_DATA_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/zoneinfo")
_FILES = ("/etc/ld.so.cache",)


@dataclass
class JailLayout:
    """What the jail exposes, as host paths (all read-only)."""

    directories: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    mplconfigdir: str | None = None


def python_paths(package_dir: str) -> list[str]:
    """Directories the interpreter and its packages live in (never the working directory)."""
    paths = sysconfig.get_paths()
    found = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    found += site.getsitepackages()
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        found.append(libdir)
    found.append(package_dir)
    return found


def default_layout(package_dir: str, mplconfigdir: str | None) -> JailLayout:
    candidates = python_paths(package_dir) + list(_LIBRARY_DIRS) + list(_DATA_DIRS)
    directories = []
    for path in candidates:
        if path and os.path.isdir(path) and path not in directories:
            directories.append(path)
    files = [path for path in _FILES if os.path.isfile(path)]
    return JailLayout(directories=directories, files=files, mplconfigdir=mplconfigdir)


def _locked_flags(path_or_fd) -> int:
    """Mount flags of the source that a user namespace may not clear on remount."""
    flags = os.statvfs(path_or_fd).f_flag
    result = 0
    for st_flag, ms_flag in ((os.ST_NOSUID, linux.MS_NOSUID), (os.ST_NODEV, linux.MS_NODEV),
                             (os.ST_NOEXEC, linux.MS_NOEXEC), (os.ST_NOATIME, linux.MS_NOATIME),
                             (os.ST_NODIRATIME, linux.MS_NODIRATIME), (os.ST_RELATIME, linux.MS_RELATIME)):
        if flags & st_flag:
            result |= ms_flag
    return result


@dataclass
class _Bind:
    jail_path: str
    host_path: str
    is_dir: bool
    locked_flags: int
    device: bool
    source_fd: int = -1  # O_PATH descriptor, opened while the host path is reachable


@dataclass
class JailPlan:
    """Everything read from the host, gathered before the process gives up its host identity.

    Host paths such as an interpreter under root's home may only be reachable with the runner's original
    credentials, so the sources are opened as O_PATH descriptors (inside the new
    mount namespace, where bind mounts may take them from) and mounted via
    /proc/self/fd after the switch to the jail's unprivileged identity.
    """

    binds: list[_Bind] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)  # jail path -> link target
    tmp_shadows: list[tuple[str, str, bool]] = field(default_factory=list)  # (alias, jail path, is dir)

    def open_sources(self) -> None:
        for bind in self.binds:
            bind.source_fd = os.open(bind.host_path, os.O_PATH | os.O_CLOEXEC)

    def close(self) -> None:
        for bind in self.binds:
            if bind.source_fd >= 0:
                os.close(bind.source_fd)
                bind.source_fd = -1


def _covered(path: str, done: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in done)


def _symlinks_along(host_path: str, found: dict[str, str]) -> None:
    """Record the symlinks on the way to host_path (e.g. /lib -> usr/lib)."""
    real = "/"
    for part in [p for p in host_path.split("/") if p]:
        candidate = os.path.join(real, part)
        if os.path.islink(candidate):
            found.setdefault(candidate, os.readlink(candidate))
            candidate = os.path.realpath(candidate)
            _symlinks_along(candidate, found)
        real = candidate


def plan_jail(layout: JailLayout) -> JailPlan:
    plan = JailPlan()
    bound: list[str] = []

    def add(host_path: str, jail_path: str | None = None, device: bool = False) -> None:
        real = os.path.realpath(host_path)
        where = jail_path or real
        if not os.path.exists(real) or _covered(where, bound):
            return
        plan.binds.append(_Bind(where, real, os.path.isdir(real), _locked_flags(real), device))
        bound.append(where)

    # Ancestors first, so a directory inside an already-bound one is skipped.
    for path in sorted({os.path.realpath(p) for p in layout.directories + layout.files}):
        add(path)
    for path in layout.directories + layout.files:
        _symlinks_along(path, plan.symlinks)
    plan.symlinks = {link: target for link, target in plan.symlinks.items() if not _covered(link, bound)}
    if layout.mplconfigdir:
        add(layout.mplconfigdir, JAIL_MPLCONFIGDIR)
    for name in DEVICES:
        host = f"/dev/{name}"
        if os.path.exists(host) and stat.S_ISCHR(os.stat(host).st_mode):
            add(host, host, device=True)
    for bind in list(plan.binds):
        if _covered(bind.jail_path, [JAIL_TMP]):
            alias = f"{JAIL_TMP_SHADOWS}/{len(plan.tmp_shadows)}"
            plan.binds.append(_Bind(alias, bind.host_path, bind.is_dir, bind.locked_flags, False))
            plan.tmp_shadows.append((alias, bind.jail_path, bind.is_dir))
    return plan


def enter_jail_root(plan: JailPlan, mountpoint: str, become_jail_identity) -> int:
    """Pivot this process, already in fresh user + mount namespaces, into the jail.

    `become_jail_identity` is called once the new root is mounted and is the
    working directory: from there on only relative paths and the plan's descriptors
    are used, so the process needs no access to the host's directories any more.

    Returns a descriptor of the host's /proc, opened before the pivot: the zygote
    needs it to write its children's id maps, and nothing in the jail can reach it
    by path.
    """
    proc_fd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
    plan.open_sources()
    # uid/gid 0 are the namespace's root, i.e. the jail identity, once it is taken.
    linux.mount("percept-jail", mountpoint, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV,
                "size=1m,mode=0755,uid=0,gid=0")
    os.chdir(mountpoint)
    become_jail_identity()

    def inside(path: str) -> str:
        return path.lstrip("/")

    for bind in plan.binds:
        target = inside(bind.jail_path)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        if bind.is_dir:
            os.makedirs(target, exist_ok=True)
        else:
            with open(target, "w"):
                pass
        linux.mount(f"/proc/self/fd/{bind.source_fd}", target, None, linux.MS_BIND | linux.MS_REC)
        nodev = 0 if bind.device else linux.MS_NODEV
        linux.mount("none", target, None, linux.MS_BIND | linux.MS_REMOUNT | linux.MS_RDONLY
                    | linux.MS_NOSUID | nodev | bind.locked_flags)
    for link, target in plan.symlinks.items():
        os.makedirs(os.path.dirname(inside(link)) or ".", exist_ok=True)
        if not os.path.lexists(inside(link)):
            os.symlink(target, inside(link))
    os.makedirs(inside(JAIL_TMP), mode=0o755, exist_ok=True)
    os.makedirs(".old-root")
    linux.pivot_root(".", ".old-root")
    os.chdir("/")
    linux.umount2("/.old-root", linux.MNT_DETACH)
    os.rmdir("/.old-root")
    linux.mount("none", "/", None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY
                | linux.MS_NOSUID | linux.MS_NODEV)
    plan.close()
    return proc_fd


def mount_private_tmp(size_bytes: int, shadows: tuple = ()) -> None:
    """The child's own writable, size-capped scratch space, with the read-only paths the
    jail needs from under the host's /tmp bound back on top of it."""
    linux.mount("percept-tmp", JAIL_TMP, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                f"size={size_bytes},mode=0700,nr_inodes=4096,uid=0,gid=0")
    for alias, path, is_dir in shadows:
        if is_dir:
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w"):
                pass
        # The alias is a read-only mount of the zygote's namespace, locked read-only in this
        # nested one, so its bind stays read-only.
        linux.mount(alias, path, None, linux.MS_BIND | linux.MS_REC)
        if not os.statvfs(path).f_flag & os.ST_RDONLY:
            raise OSError(f"{path} came back writable in the jail")


def first_unreachable(readable: list[str], enterable: list[str], uid: int, gid: int) -> str | None:
    """The first path (or a directory above one) that `uid`/`gid` cannot reach: the
    `readable` ones must be readable (and enterable), the `enterable` directories enterable.

    Without namespaces a child runs as the jail identity straight on the host's
    filesystem, so everything it loads lazily must be reachable by that identity.
    Checked for real, in a throwaway child that takes the identity.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            for path, read in [(p, True) for p in readable] + [(p, False) for p in enterable]:
                blocked = _blocked_on_the_way(path, read)
                if blocked:
                    os.write(write_fd, blocked.encode())
                    break
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        answer = reader.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise OSError(f"could not check what uid {uid} can reach (status {status})")
    return answer or None


def _blocked_on_the_way(path: str, read: bool) -> str | None:
    """The first directory on the way to `path` this process cannot enter, or `path` itself
    if it cannot be entered (a directory) or read (when `read`)."""
    path = os.path.abspath(path)
    current = "/"
    for part in [p for p in path.split("/") if p]:
        if not os.access(current, os.X_OK):
            return current
        current = os.path.join(current, part)
    wanted = (os.R_OK if read else 0) | (os.X_OK if os.path.isdir(path) else 0)
    if wanted and os.path.exists(path) and not os.access(path, wanted):
        return path
    return None
