"""The Python environment the python-backend stub runs models in.

The stub embeds libpython and finds its environment through the first `python3` on
PATH (it ignores PYTHONPATH). The stub in the nvidia-pytriton wheel was built with
numpy 1.x headers: under numpy 2 it reads a dtype's item size at the old struct
offset, so every input tensor arrives as copies of its first byte, outputs arrive
empty and BYTES inputs crash the stub. The project pins numpy 2, so the stub gets an
overlay environment instead of the project's venv:

    <workspace>/stub-env/           a venv (pyvenv.cfg + bin/python3 -> this interpreter)
        lib/pythonX.Y/site-packages/percept-stub.pth
            <stub site>             numpy 1.x only (requirements/triton-stub.txt)
            site.addsitedir(<project site-packages>)   everything else, editable installs too
            <repository root>

The numpy-1 directory is installed once by `make setup` (or `python -m
services.triton.stubenv install`). A stub built against numpy 2 needs no overlay:
set PERCEPT_TRITON_STUB_SITE=off.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
from pathlib import Path

from services.triton.settings import STUB_SITE

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "requirements" / "triton-stub.txt"
OFF = "off"


class StubEnvError(RuntimeError):
    pass


def stub_site() -> Path | None:
    """The numpy-1 site directory, or None when the overlay is switched off."""
    value = STUB_SITE.get().strip()
    if value.lower() == OFF:
        return None
    return Path(value) if value else Path(sys.prefix) / "triton-stub-site"


def is_installed(site: Path) -> bool:
    return any(site.glob("numpy-1.*.dist-info"))


def install(site: Path | None = None) -> Path:
    """pip-install requirements/triton-stub.txt into the stub site (idempotent)."""
    site = site or stub_site()
    if site is None:
        raise StubEnvError("the stub overlay is switched off (PERCEPT_TRITON_STUB_SITE=off)")
    if not is_installed(site):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                        "-r", str(REQUIREMENTS)], check=True)
    return site


def build_overlay(workspace: Path, site: Path) -> Path:
    """Create the overlay venv under `workspace`; returns the directory to put first on PATH."""
    if not is_installed(site):
        raise StubEnvError(f"no numpy 1.x in {site}: the python-backend stub needs it "
                           "(run `make setup` or `python -m services.triton.stubenv install`)")
    root = workspace / "stub-env"
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python3", "python"):
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(sys.executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (root / "pyvenv.cfg").write_text(
        f"home = {Path(sys._base_executable).parent}\n"  # type: ignore[attr-defined]
        "include-system-site-packages = false\n"
        f"version = {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}\n")
    site_packages = root / "lib" / f"python{version}" / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    project_site = sysconfig.get_paths()["purelib"]
    # .pth lines run in order: numpy 1 first, then the project's site-packages (its own .pth
    # files, e.g. editable installs, are processed by addsitedir), then the repository.
    (site_packages / "percept-stub.pth").write_text(
        f"{site}\n"
        f"import site; site.addsitedir({project_site!r})\n"
        f"{REPO_ROOT}\n")
    return bin_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.triton.stubenv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "where"])
    args = parser.parse_args(argv)
    site = stub_site()
    if args.command == "install":
        if site is None:
            print("stub overlay is off; nothing to install")
            return 0
        print(install(site))
    else:
        print(site if site is not None else OFF)
    return 0


if __name__ == "__main__":
    sys.exit(main())
