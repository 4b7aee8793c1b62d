"""The runner's private directory: matplotlib cache, the jail's mount point, scratch space."""
from __future__ import annotations

import math
import os
import shutil
import tempfile

from .config import SandboxConfig

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
RUNTIME_PREFIX = "percept-sandbox-"
OWNER_FILE = "owner.pid"  # the runner's pid: a directory whose owner is dead is stale


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
        self.mplconfigdir = self._prepare_mplconfigdir(config.mplconfigdir or _default_mpl_cache())
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
        return {"MPLBACKEND": "Agg", "MPLCONFIGDIR": self.mplconfigdir, "LANG": "C.UTF-8",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "PERCEPT_SANDBOX_LOG_LEVEL": config.log_level}

    def zygote_config(self, config: SandboxConfig, use_namespaces: bool) -> dict:
        return {
            "use_namespaces": use_namespaces,
            "prefault": config.prefault,
            "allow_insecure": config.insecure_no_isolation,
            "package_dir": PACKAGE_DIR,
            "mplconfigdir": self.mplconfigdir,
            "mountpoint": self.mountpoint,
            "scratch_root": self.scratch,
            "jail_uid": config.jail_uid,
            "jail_gid": config.jail_gid,
            "tmpfs_bytes": config.tmpfs_bytes,
            "memory_bytes": config.address_space_bytes,
            "file_bytes": config.file_bytes,
            "processes": config.processes,
            "open_files": config.open_files,
            "max_cpu_s": int(math.ceil(config.max_timeout_s)) + 1,
            "max_code_bytes": config.max_code_bytes,
            "max_figures": config.max_figures,
            "max_figure_pixels": config.max_figure_pixels,
            "max_image_bytes": config.max_image_bytes,
            "max_trace_bytes": config.max_trace_bytes,
            "child_env": {"MPLBACKEND": "Agg", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
                          "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        }

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


def _default_mpl_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "percept-sandbox", "mplconfig")
