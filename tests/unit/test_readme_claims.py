"""The README and the Makefile advertise only what exists: every directory of the layout block,
every `make` target they name."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()
# The Makefile and the files it includes, where the rules live.
_RULES = MAKEFILE + "".join((ROOT / name).read_text()
                            for name in re.findall(r"^include (\S+)$", MAKEFILE, re.M))
MAKE_TARGETS = set(re.findall(r"^([A-Za-z][\w-]*):", _RULES, re.M))


def _layout_directories() -> list[str]:
    block = re.search(r"## Layout\s*\n```\n(.*?)```", README, re.S)
    assert block, "README lacks its Layout block"
    return re.findall(r"^(\S+)/\s", block.group(1), re.M)


def test_every_directory_of_the_readme_layout_exists():
    directories = _layout_directories()
    assert "services" in directories  # the parser sees the block
    missing = [name for name in directories if not (ROOT / name).is_dir()]
    assert not missing, f"README's layout names directories that do not exist: {missing}"


def test_every_make_target_the_readme_and_help_name_exists():
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    named |= set(re.findall(r'@echo "make ([a-z][\w-]*)', MAKEFILE))
    assert {"up", "test"} <= named
    missing = sorted(named - MAKE_TARGETS)
    assert not missing, f"README or `make help` names targets the Makefile lacks: {missing}"


def test_every_phony_target_has_a_rule():
    phony = re.search(r"^\.PHONY:(.*)$", MAKEFILE, re.M).group(1).split()
    missing = [target for target in phony if target not in MAKE_TARGETS]
    assert not missing, f".PHONY lists targets without a rule: {missing}"
