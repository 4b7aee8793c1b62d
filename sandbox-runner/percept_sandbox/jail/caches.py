"""Where a render's caches go: its own writable directory, never the runner's.

The zygote imported matplotlib with the host's view, so the paths matplotlib
memoised then (its cache dir, the TeX cache) name host directories that are
absent or read-only in the jail. Each child points them, and the environment
variables libraries consult, at `<workdir>/.cache` before the program starts.
The prepared read-only config and font cache stay at MPLCONFIGDIR.
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_NAME = ".cache"


def cache_environment(workdir: str) -> dict:
    """HOME-based and XDG caches of any library, inside the render's private directory."""
    return {"HOME": workdir, "TMPDIR": workdir, "XDG_CACHE_HOME": os.path.join(workdir, CACHE_DIR_NAME)}


def point_matplotlib_caches(workdir: str) -> str:
    """matplotlib.get_cachedir() and the TeX cache under `workdir`; returns the cache dir."""
    import matplotlib
    import matplotlib.texmanager

    cachedir = os.path.join(workdir, CACHE_DIR_NAME, "matplotlib")
    os.makedirs(cachedir, exist_ok=True)
    # get_cachedir() is memoised (with the zygote's host path): replace it.
    matplotlib.get_cachedir = lambda: cachedir
    matplotlib.texmanager.TexManager._cache_dir = Path(cachedir, "tex.cache")
    return cachedir
