"""What `make models` serves by default: the trained models committed in the repository when their
directories hold a checkpoint (models/tokenfd-mini, models/codepercept-mini), else each family's tiny
fixture; CHECKPOINT and CODEPERCEPT_CHECKPOINT_SERVED override them, and an empty value asks for the
fixture. Read from the command `make -n models` prints: nothing is built."""
from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from services.models.tokenfd.mini import PUBLISHED_DIR

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _build_arguments(tmp_path, *assignments: str) -> list[str]:
    """The arguments of the build command `make models` runs, as make -n prints it."""
    result = subprocess.run(["make", "-n", "models", f"ARTIFACTS={tmp_path / 'artifacts'}", *assignments],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    commands = result.stdout.replace("\\\n", " ").splitlines()
    (command,) = [line for line in commands if "services.models.build_default" in line]
    return shlex.split(command)


def _value(arguments: list[str], flag: str) -> str | None:
    return arguments[arguments.index(flag) + 1] if flag in arguments else None


@pytest.fixture()
def directories(tmp_path):
    published, empty = tmp_path / "published", tmp_path / "empty"
    published.mkdir()
    empty.mkdir()
    (published / "config.json").write_text("{}")
    return published, empty


def test_tokenfd_mini_is_served_when_published(tmp_path, directories):
    published, empty = directories
    assert _value(_build_arguments(tmp_path, f"TOKENFD_MINI_DIR={published}"), "--checkpoint") == str(published)
    assert _value(_build_arguments(tmp_path, f"TOKENFD_MINI_DIR={empty}"), "--checkpoint") is None
    assert _value(_build_arguments(tmp_path, f"TOKENFD_MINI_DIR={published}", "CHECKPOINT=/official/TokenFD"),
                  "--checkpoint") == "/official/TokenFD"
    assert _value(_build_arguments(tmp_path, f"TOKENFD_MINI_DIR={published}", "CHECKPOINT="), "--checkpoint") is None


def test_codepercept_mini_is_served_when_published(tmp_path, directories):
    published, empty = directories
    assert _value(_build_arguments(tmp_path, f"CODEPERCEPT_MINI_DIR={published}"),
                  "--family-checkpoint") == f"codepercept={published}"
    assert _value(_build_arguments(tmp_path, f"CODEPERCEPT_MINI_DIR={empty}"), "--family-checkpoint") is None
    assert _value(_build_arguments(tmp_path, f"CODEPERCEPT_MINI_DIR={published}",
                                   "CODEPERCEPT_CHECKPOINT_SERVED=/elsewhere/codepercept"),
                  "--family-checkpoint") == "codepercept=/elsewhere/codepercept"
    assert _value(_build_arguments(tmp_path, f"CODEPERCEPT_MINI_DIR={published}", "CODEPERCEPT_CHECKPOINT_SERVED="),
                  "--family-checkpoint") is None


def test_the_repositorys_own_directories():
    makefile = (ROOT / "Makefile").read_text()
    assert f"TOKENFD_MINI_DIR ?= {PUBLISHED_DIR}" in makefile      # where make publish-tokenfd puts it
    assert "CODEPERCEPT_MINI_DIR ?= models/codepercept-mini" in makefile
