"""The runner's private directory: matplotlib cache, the jail's mount point, scratch space."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass

from .. import PACKAGE_DIR
from ..config import SandboxConfig
from ..render.warmup import RENDER_ENV

RUNTIME_PREFIX = "percept-sandbox-"
OWNER_FILE = "owner.pid"  # the runner's pid: a directory whose owner is dead is stale


@dataclass(frozen=True)
class JailPaths:
    """Where a zygote finds what it builds the jail from (with the SandboxConfig, all it is told)."""

    use_namespaces: bool
    package_dir: str
    mplconfigdir: str
    mountpoint: str
    scratch_root: str  # insecure mode only: the children's private working directories

    def to_message(self) -> dict:
        return asdict(self)


class RuntimeDir:
    """The runner's private directory: matplotlib cache, jail mount point, scratch."""

    def __init__(self, config: SandboxConfig) -> None:
        base = config.runtime_dir or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        _remove_stale_runtime_dirs(base)
        self.path = tempfile.mkdtemp(prefix=RUNTIME_PREFIX, dir=base)
        os.chmod(self.path, 0o711)  # traversable by the jail identity in insecure mode
        with open(os.path.join(self.path, OWNER_FILE), "w") as handle:
            handle.write(str(os.getpid()))
        self.mplconfigdir = self._prepare_mplconfigdir(prepared_mplconfigdir(config.mplconfigdir))
        self.mountpoint = os.path.join(self.path, "jail-root")
        os.makedirs(self.mountpoint)
        self.scratch = os.path.join(self.path, "scratch")
        os.makedirs(self.scratch)
        os.chmod(self.scratch, 0o711)

    def _prepare_mplconfigdir(self, prepared: str) -> str:
        """A writable matplotlib config dir with a warm font cache (rebuilding it costs seconds).

        A writable prepared directory is used as it is (and warmed for the next start);
        a read-only one (baked into the image) is copied; without one, a fresh one.
        """
        try:
            os.makedirs(prepared, exist_ok=True)
        except OSError:
            pass
        if os.path.isdir(prepared) and os.access(prepared, os.W_OK | os.X_OK):
            return prepared
        private = os.path.join(self.path, "mplconfig")
        if os.path.isdir(prepared):
            shutil.copytree(prepared, private)
        else:
            os.makedirs(private)
        return private

    def zygote_env(self, config: SandboxConfig) -> dict:
        # Nothing of the runner's environment: secrets never reach the zygote.
        return {**RENDER_ENV, "MPLCONFIGDIR": self.mplconfigdir, "PYTHONDONTWRITEBYTECODE": "1",
                "PERCEPT_SANDBOX_LOG_LEVEL": config.log_level}

    def jail_paths(self, use_namespaces: bool) -> JailPaths:
        return JailPaths(use_namespaces, PACKAGE_DIR, self.mplconfigdir, self.mountpoint, self.scratch)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _remove_stale_runtime_dirs(base: str) -> None:
    """Runtime directories left by runners that were killed before they could clean up."""
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if not name.startswith(RUNTIME_PREFIX) or not os.path.isdir(path) or os.stat(path).st_uid != os.getuid():
            continue
        try:
            with open(os.path.join(path, OWNER_FILE)) as handle:
                owner = int(handle.read())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass


def prepared_mplconfigdir(configured: str = "") -> str:
    """The prepared matplotlib config and font cache (PERCEPT_SANDBOX_MPLCONFIGDIR, or a default)."""
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "percept-sandbox", "mplconfig")
