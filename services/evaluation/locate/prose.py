"""English prose for the text-layer PDF pages, from text that ships with Python and that the
TokenIT engine does not train on.

The training corpus (services/datasets/tokenit/corpus.py) is Python's reference topics and the
docstrings of a fixed list of standard-library modules. These pages use other real prose that
ships with the interpreter: IDLE's user guide (``idlelib/help.html``, a few thousand words of
running text) and the licence text (``LICENSE.txt``), cut into paragraphs. Both sit in the
standard library's directory, so the pages depend on the Python version only, never on the
network. Typographic characters become their ASCII forms, as in the training corpus.
"""
from __future__ import annotations

import functools
import re
import sysconfig
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

SOURCES = ("idlelib/help.html", "LICENSE.txt")
MIN_WORDS = 8
_ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                        "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u00b6": ""})
# URLs, markup and code-like runs read badly as prose and are never queried by a person.
_NOT_PROSE = re.compile(r"https?://|www\.|[{}\[\]<>|\\`*~^=_]|\w\(|\.py\b|\s{3,}")


def ascii_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return " ".join(text.encode("ascii", "ignore").decode().split())


class _Paragraphs(HTMLParser):
    """The text of every <p> element of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "p":
            self._current = []

    def handle_endtag(self, tag) -> None:
        if tag == "p" and self._current is not None:
            self.paragraphs.append("".join(self._current))
            self._current = None

    def handle_data(self, data) -> None:
        if self._current is not None:
            self._current.append(data)


def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        parser = _Paragraphs()
        parser.feed(text)
        blocks = parser.paragraphs
    else:
        blocks = re.split(r"\n\s*\n", text)
    kept = []
    for block in blocks:
        paragraph = ascii_text(block)
        if len(paragraph.split()) >= MIN_WORDS and not _NOT_PROSE.search(paragraph) \
                and paragraph[-1] in ".:;!?)":
            kept.append(paragraph)
    return kept


@functools.lru_cache(maxsize=1)
def paragraphs() -> tuple[str, ...]:
    """Every paragraph of the sources, in a stable order (unique)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = [stdlib / source for source in SOURCES if (stdlib / source).is_file()]
    if not found:
        raise FileNotFoundError(f"none of {', '.join(SOURCES)} is in {stdlib}: the PDF pages need "
                                "IDLE's guide or the licence text that ship with CPython")
    return tuple(dict.fromkeys(p for path in found for p in _paragraphs(path)))
