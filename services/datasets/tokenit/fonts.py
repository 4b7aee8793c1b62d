"""Font files the engine may draw with, by family kind (serif, sans, mono) and weight.

matplotlib's bundled fonts (DejaVu, STIX, Computer Modern) are always there, so the engine works
on any machine with the project's requirements; Debian's fonts-liberation (Times/Helvetica/Courier
metrics), fonts-urw-base35 (the PostScript 35) and fonts-lmodern (Latin Modern), which
`make tokenit-fonts` installs where apt is available, are used when present. Symbol, display and
dingbat faces are left out: they do not draw the letters their code points name.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

# Where Debian's fonts-* packages put their files (standard locations, not this machine's).
SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype",
                    "/usr/share/texmf/fonts/opentype/public/lm")
FONT_SUFFIXES = (".ttf", ".otf")

# Every face must draw all of these, or it is skipped.
REQUIRED_CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                  ".,:;-/()$%#&'\"!?@+*=_")

_EXCLUDED = re.compile(r"(Display|Math|NonUni|STIXSiz|LastResort|cmex|cmmi|cmsy|Symbol|D050000L|Z003|"
                       r"lmmonocaps|lmromancaps|lmromandunh|lmromanslant|lmromanunsl|lmmonoprop|"
                       r"lmmonolt|lmmono(8|9|12)|lmroman(5|6|7|8|9|12|17)|lmsans(8|9|12|17)|lmsansquot)",
                       re.IGNORECASE)
# name fragment -> kind, first match wins (mono before sans: "DejaVuSansMono")
_KINDS = ((re.compile(r"mono|courier|cmtt|lmmono", re.I), "mono"),
          (re.compile(r"sans|helvet|gothic|cmss|lmsans", re.I), "sans"),
          (re.compile(r".", re.I), "serif"))
_BOLD = re.compile(r"bold|demi|cmb10|Bol\b|Bol[IT]|-Bd", re.I)
_ITALIC = re.compile(r"italic|oblique|cmti|Ita\b|Ita\.|BolIta|-BdIta", re.I)


@dataclass(frozen=True)
class Face:
    path: str
    kind: str        # serif | sans | mono
    bold: bool
    italic: bool

    @property
    def name(self) -> str:
        return Path(self.path).stem


def _classify(path: Path) -> Face:
    stem = path.stem
    kind = next(kind for pattern, kind in _KINDS if pattern.search(stem))
    return Face(str(path), kind, bool(_BOLD.search(stem)), bool(_ITALIC.search(stem)))


def _covers(path: Path) -> bool:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(str(path), lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # noqa: BLE001 - an unreadable font file is simply not used
        return False
    return all(ord(char) in cmap for char in REQUIRED_CHARS)


def matplotlib_font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.lru_cache(maxsize=1)
def faces() -> tuple[Face, ...]:
    """Every usable face on this machine, in a stable order (by file name)."""
    candidates: dict[str, Path] = {}
    for directory in (matplotlib_font_dir(), *map(Path, SYSTEM_FONT_DIRS)):
        if directory.is_dir():
            for path in directory.rglob("*"):
                if path.suffix.lower() in FONT_SUFFIXES and not _EXCLUDED.search(path.name):
                    candidates.setdefault(path.name, path)   # one copy of a file shipped twice
    return tuple(_classify(path) for name, path in sorted(candidates.items()) if _covers(path))


def fingerprint(selection: tuple[Face, ...]) -> str:
    """Short hash of the face names: pages are byte-reproducible for the same seed and fingerprint."""
    return hashlib.sha256("\n".join(face.name for face in selection).encode()).hexdigest()[:12]
