"""The engine's generic word list, derived from text that ships with Python: the pydoc topics
(`pydoc_data.topics`, the help pages of the language reference).

The list is derived once and committed as `families/_words.py`, so a corpus does not change with
the Python it is generated under (the topics text changes between releases). Regenerate it with

    python -m services.evaluation.synth.wordlist            # rewrites families/_words.py
    python -m services.evaluation.synth.wordlist --check    # exit 1 when the committed list differs

The families draw category, group and series names and title words from it (families/_text.py).
"""
from __future__ import annotations

import argparse
import builtins
import keyword
import re
import sys
from collections import Counter
from pathlib import Path

TARGET = Path(__file__).resolve().parent / "families" / "_words.py"
MIN_LENGTH, MAX_LENGTH = 4, 10
MIN_OCCURRENCES = 3  # a word the topics use once or twice is often an identifier or a typo
# Function words and adverbs: they make no category or series name.
STOP_WORDS = frozenset("""
about above after again against also although another because been before being below between both
cannot could does doing done during each either else every from further have having here hence however
into itself just least less made make makes many might more most much must neither never often only other
otherwise ours over perhaps rather same shall should since some such than that their them themselves then
there therefore these they this those though through thus under unless until upon very were what when
whenever where whereas whether which while whom whose will with within without would yours
""".split())
# Words as they stand in running prose: not part of a dotted, hyphenated, quoted or starred name,
# nor a call. Prose lines of the topics start at the margin; code examples are indented.
WORD = re.compile(r"(?<![\w.'’\"*/\-])[a-z]+(?![\w'’\"*/(\-])")


def derive(text: str) -> tuple[str, ...]:
    """Lower-case words of the prose lines of `text` fit for a label: 4 to 10 letters, used at least 3 times, none of
    Python's keywords, built-in names, standard-library module names or STOP_WORDS, and no adverb
    or past form (-ly, -ed); sorted."""
    prose = [line for line in text.splitlines() if line[:1].isalpha()]
    counts = Counter(word for line in prose for word in WORD.findall(line))
    excluded = STOP_WORDS | set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) \
        | set(sys.stdlib_module_names)
    return tuple(sorted(
        word for word, count in counts.items()
        if count >= MIN_OCCURRENCES and MIN_LENGTH <= len(word) <= MAX_LENGTH and word not in excluded
        and not word.endswith(("ly", "ed"))))


def topics_text() -> str:
    import pydoc_data.topics

    return "\n".join(pydoc_data.topics.topics[name] for name in sorted(pydoc_data.topics.topics))


def module_source(words: tuple[str, ...]) -> str:
    lines, line = [], "    "
    for word in words:
        item = f'"{word}", '
        if len(line) + len(item) > 116:
            lines.append(line.rstrip())
            line = "    "
        line += item
    lines.append(line.rstrip())
    body = "\n".join(lines)
    return (f'"""Generic words for names and titles: {len(words)} words derived from the pydoc topics of '
            f'Python {sys.version_info.major}.{sys.version_info.minor}\n'
            '(services/evaluation/synth/wordlist.py; generated, do not edit)."""\n\n'
            f"WORDS = (\n{body}\n)\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.evaluation.synth.wordlist", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed list, write nothing")
    args = parser.parse_args(argv)
    source = module_source(derive(topics_text()))
    if args.check:
        same = TARGET.read_text(encoding="utf-8") == source
        print("the committed word list is current" if same else "the committed word list differs")
        return 0 if same else 1
    TARGET.write_text(source, encoding="utf-8")
    print(f"wrote {TARGET.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
