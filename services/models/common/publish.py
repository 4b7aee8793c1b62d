"""What publishing a trained checkpoint into the repository (`make publish-*`) shares across the recipes:
the checkpoint's files all there and within the bound on committed weights, then copied to where `make
models` serves them from, staged beside the destination and moved into place, so a failed copy never leaves
half a checkpoint there. Each recipe adds its own checks (the strict loader, its record)."""
from __future__ import annotations

import shutil
from pathlib import Path


def checked_size(source: Path, files: tuple[str, ...], max_bytes: int, error: type[Exception], *,
                 what: str, made_by: str) -> int:
    """The files' bytes together; FileNotFoundError naming the missing ones, `error` over the bound."""
    missing = [name for name in files if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source} lacks {', '.join(missing)} (a {what} checkpoint has "
                                f"{', '.join(files)}; {made_by} writes one)")
    size = sum((source / name).stat().st_size for name in files)
    if size > max_bytes:
        raise error(f"{source} holds {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB a committed "
                    f"checkpoint may take")
    return size


def copy_files(source: Path, dest: Path, files: tuple[str, ...]) -> Path:
    """Replace `dest` with copies of `source`'s `files` (nothing else of either survives)."""
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in files:
        shutil.copyfile(source / name, staging / name)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return dest
