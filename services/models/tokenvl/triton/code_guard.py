"""Constrained decoding of an answer's Python program: brackets that match, strings that close on their
line, names read only once they are bound, and records of one collection that have one shape.

A small model writes each line of a program from its own reading of the image, and some lines disagree
with the lines before: a list is named `sound_level` where it was defined as `thermal_conductivity`, a
`]` closes a `{`, a string runs into the next line, a heat map's second row has one value fewer than its
first. Each of these makes the whole render fail. The guard follows the text of the ```python block as it
is generated and refuses a token that would make one of these errors; the sampler then takes the next
candidate (`GuardedSampler`). It reads the code as a tokenizer does, one character at a time, with no
parser and no look-ahead:

- brackets: a closing bracket must match the innermost open one, and the block's closing fence may not
  come while a bracket or a string is open;
- strings: a newline ends neither a single-quoted string nor its line (a triple-quoted one may span
  lines), and a character beyond ASCII stays in a string or a comment;
- names: in a position where a name is read (an operand, an argument, a subscript: anywhere but the
  targets before a statement's `=`, the names a `for`, `def`, `lambda`, `import` or `as` binds, and
  attributes), the name must be bound earlier in the program, a builtin, a keyword, or one of the
  model's `free_names`. While it is written, it must be a prefix of one of those;
- syntax: no operand right after an operand (`len(s) "from"`, `x 5`; a keyword such as `if` or `for` may
  follow one, and a string a string), no operator without an operand after it (`f(a=)`, `x = y +`), no
  empty item (`[1, , 2]`), no leading zero (`05`);
- layout: inside brackets no blank line, no comment and no backslash continuation, and at most MAX_INDENT
  spaces before a line's first character; no `$` or `?` outside a string. So a model that would rather
  close a bracket than write what the other rules ask has to write code, not mark time or ramble (the
  engine's programs do none of these);
- shapes: in a list, dict or set display, the list displays it holds have one length, and so do the tuple
  displays (`[[1, 2], [3, 4]]`, `{"a": (1, 2), "b": (3, 4)}`); in a tuple display, so do those that are
  whole items (`(xs, ys)` as `([1, 2], [3, 4])`). The first one sets the length, and a later one may
  neither start an item past it nor close short of it. Rows of a table and records of a collection are
  written this way, and the engine's programs keep to it (the tests hold a program of each family to it).
  A call's arguments (`ax.plot([0, 1], [y] * 2)`) and subscripts are not displays;
- parallel lists: a list or dict display assigned to a name at the top level (`table_values = [...]`) has the
  length that the model's `parallel` relations give it from lists assigned before it: its items, or the
  items of the lists it holds, equal to another's items or rows (`row_names` has as many items as
  `table_values` has rows, `column_names` as many as each of its rows has). A relation is one the training
  programs always keep (`learn_rules`), between names each list of which had at least 2 items; a
  comprehension is no display of items, and a name assigned anew forgets its length.

`free_names` are the names the training programs themselves read where the name rule would refuse them:
keyword arguments (`label=`, allowed only with their "=" when the programs read them no other way) and the
variables of comprehensions, which are read before their `for`. Computed from the training programs, they
let the name rule accept every one of them; services/models/codepercept/guard_names.py checks the whole
guard against a corpus. Outside the code block (prose, a caption) and after its closing fence the guard refuses nothing.
"""
from __future__ import annotations

import bisect
import builtins
import json
import keyword
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Sequence

import numpy as np

FENCE_OPEN = "```python\n"
OPENING = {")": "(", "]": "[", "}": "{"}
STRING_PREFIXES = frozenset({"f", "r", "b", "u", "rb", "br", "fr", "rf"})
# The keywords that may come right after an operand.
FOLLOWERS = ("if", "else", "for", "in", "is", "not", "and", "or", "as", "from", "import")
# Keywords whose next names are bound; after any other keyword the statement reads (`return x`, `if x`).
BINDING_KEYWORDS = frozenset({"for", "def", "class", "lambda", "import", "from", "as", "global", "nonlocal"})
ALWAYS_ALLOWED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

PROSE, CODE, DONE = 0, 1, 2
KEYWORD_MARK = "="          # a free name so marked (`label=`) is read unbound only as a keyword argument
OPERATORS = frozenset("+-*/%&|^<>=!~@")
UNKNOWN = -1
ITEMS, ROWS = "items", "rows"  # a top-level list's length, and the length of the lists it holds
MIN_RELATION_SUPPORT = 10      # programs that must show a parallel relation before it is one
MAX_INDENT = 80             # spaces before a line's first character (the engine's programs use up to 67)


@dataclass(frozen=True)
class _Shape:
    """An open bracket's items, for the shape rule."""
    display: bool               # a list, tuple, dict or set display (not a call's or a subscript's bracket)
    record: bool = False        # a list or tuple display held by a display: the rule applies to it
    required: int = UNKNOWN     # the items it must have: its first sibling of its kind's (once known)
    items: int = 0              # items started so far
    in_item: bool = False       # the current item has started (a comma ends it)
    list_items: int = UNKNOWN   # a display: the items of the first list display it holds as a record
    tuple_items: int = UNKNOWN  # ... and of the first tuple display
    name: str = ""              # a list display assigned to this name at the top level (parallel lists)
    comprehension: bool = False  # a `for` came in it: its items are not counted by commas
    before: tuple = ()          # ... the lists' lengths when it opened (_Lexer.lengths)


@dataclass
class _Lexer:
    """Where the text so far leaves the program (copied for each candidate token: `feed` changes it)."""
    mode: int = PROSE
    tail: str = ""              # PROSE: the last characters, to find the fence
    brackets: str = ""          # open brackets, innermost last
    shapes: tuple = ()          # a _Shape per open bracket, innermost last
    # The last token was an operand: "string" or "value" (a name, a number, a closing bracket). A bracket
    # now is a call or a subscript, and only a keyword such as `if` or `for` may come (or a string after one).
    operand: str = ""
    word_after: str = ""        # the operand before the word being written
    after_operator: bool = False  # the last character outside spaces was an operator's: an operand must come
    quote: str = ""             # in a string: its closing delimiter (one or three quote characters)
    quote_run: int = 0          # in a triple-quoted string: closing quote characters seen in a row
    string_empty: bool = False  # in a one-quote string with nothing in it yet
    empty_string: str = ""      # just closed an empty '' or "": a third quote makes it a triple quote
    escaped: bool = False
    comment: bool = False
    continued: bool = False     # a backslash outside a string: the line goes on
    line_start: bool = True     # only spaces since the statement's line began (the fence's place)
    blank: bool = True          # only spaces on this line so far
    indent: int = 0             # ... and how many
    word: str = ""
    number: bool = False        # the word is a number
    word_read: bool = False     # the word is read where it stands: it must be an allowed name
    after_dot: bool = False     # the last character outside spaces was "." (an attribute follows)
    # The statement reads from here on: it had its "=" at depth 0, or a keyword such as `if` or `return`.
    # Before that, names at depth 0 are its targets (`fig, ax = ...`) or a call's object (`ax.plot(...)`).
    reading: bool = False
    binding: str = ""           # the binding construct whose names come now ("for", "def", ...)
    binding_depth: int = 0
    new_names: list[str] = field(default_factory=list)
    # Parallel lists: the statement's first name while it is all the statement holds; that name once an
    # "=" follows it (a display may come); a top-level list display just closed, (name, items, rows),
    # kept once its statement ends; and those kept, one per name.
    leading_word: bool = False
    lead: str = ""
    assigning: str = ""
    closed: tuple = ()
    lengths: tuple = ()


@dataclass(frozen=True)
class GuardRules:
    """What a model's code guard knows of its training programs (its record's `code_guard` entry, the
    generation model's config parameter): the names they read unbound, and the parallel lists they keep."""
    free_names: tuple[str, ...] = ()
    parallel: tuple[tuple[str, str, str, str], ...] = ()

    @classmethod
    def from_entry(cls, entry: dict) -> "GuardRules":
        """From a record's entry or the parameter's JSON object (an entry without `parallel` has none)."""
        return cls(tuple(str(name) for name in entry.get("free_names", ())),
                   tuple(tuple(str(part) for part in relation) for relation in entry.get("parallel", ())))

    def to_json(self) -> str:
        return json.dumps({"free_names": sorted(self.free_names), "parallel": sorted(self.parallel)},
                          sort_keys=True)

    def guard(self) -> "CodeGuard":
        return CodeGuard(self.free_names, self.parallel)


class CodeGuard:
    """One answer's guard: `accepts(text)` says whether the next token's text keeps the program
    well-formed, `advance(text)` takes it. Names bound so far are kept sorted for prefix queries."""

    _only_names = False         # the collecting guard (free_names) applies the name rule alone

    def __init__(self, free_names: Iterable[str] = (), parallel: Iterable[Sequence[str]] = ()) -> None:
        # (name, its part, name, its part): the second list's part has the first one's length
        self._parallel: dict[str, list[tuple[str, str, str]]] = {}
        for first, first_part, second, second_part in sorted(tuple(relation) for relation in parallel):
            self._parallel.setdefault(second, []).append((first, first_part, second_part))
        free = frozenset(free_names)
        names = frozenset(name for name in free if not name.endswith(KEYWORD_MARK))
        # Names read unbound only as keyword arguments (`label=`): allowed where an "=" follows them.
        self._keyword_names = frozenset(name[:-1] for name in free if name.endswith(KEYWORD_MARK)) - names
        self._allowed = sorted(ALWAYS_ALLOWED | names | self._keyword_names)   # for prefixes
        self._allowed_set = set(ALWAYS_ALLOWED | names)
        self._lexer = _Lexer()
        self._pending: _Lexer | None = None
        self._pending_text: str | None = None

    @property
    def in_code(self) -> bool:
        return self._lexer.mode == CODE

    def accepts(self, text: str) -> bool:
        lexer = self._feed(text)
        self._pending, self._pending_text = lexer, text
        return lexer is not None

    def advance(self, text: str) -> None:
        lexer = self._pending if self._pending_text == text else self._feed(text)
        self._pending = self._pending_text = None
        if lexer is None:
            raise ValueError(f"the guard refuses {text!r}")
        for name in lexer.new_names:
            self._bind(name)
        lexer.new_names = []
        self._lexer = lexer

    # --- names ----------------------------------------------------------------------------------
    def _bind(self, name: str) -> None:
        if name not in self._allowed_set:
            self._allowed_set.add(name)
            bisect.insort(self._allowed, name)

    def _allowed_name(self, name: str, lexer: _Lexer, following: str) -> bool:
        return (name in self._allowed_set or name in lexer.new_names
                or name in self._keyword_names and following == "=")

    def _allowed_prefix(self, prefix: str, lexer: _Lexer) -> bool:
        if prefix in STRING_PREFIXES:
            return True
        at = bisect.bisect_left(self._allowed, prefix)
        if at < len(self._allowed) and self._allowed[at].startswith(prefix):
            return True
        return any(name.startswith(prefix) for name in lexer.new_names)

    # --- the lexer ------------------------------------------------------------------------------
    def _feed(self, text: str) -> _Lexer | None:
        if not text and self._lexer.mode == CODE:
            return None              # a special token (the stop) inside the block: the program would be cut
        lexer = replace(self._lexer, new_names=[])   # the names this text binds (committed by `advance`)
        for char in text:
            if lexer.mode == DONE:
                break
            if lexer.mode == PROSE:
                lexer.tail = (lexer.tail + char)[-len(FENCE_OPEN):]
                if lexer.tail == FENCE_OPEN:
                    lexer.mode = CODE
                continue
            if not self._char(lexer, char):
                return None
        return lexer

    def _char(self, lexer: _Lexer, char: str) -> bool:
        if lexer.blank and char not in " \t\r\f\n":
            lexer.blank = False
        if lexer.comment:
            if char != "\n":
                return True
            lexer.comment = False
            return self._newline(lexer)
        if lexer.quote:
            return self._in_string(lexer, char)
        if lexer.word:
            if lexer.number and lexer.word == "0" and char.isdigit() and not self._only_names:
                return False         # `05`: a leading zero is a SyntaxError
            if self._continues_word(lexer, char):
                lexer.word += char
                if lexer.word_after and not self._may_follow(lexer.word):
                    return False
                return not lexer.word_read or self._allowed_prefix(lexer.word, lexer)
            if not self._end_word(lexer, char):
                return False
            if lexer.quote:          # the word was a string prefix and char opened the string
                return True
        if lexer.empty_string:
            quote, lexer.empty_string = lexer.empty_string, ""
            if char == quote:        # '' then ': a triple-quoted string opens
                lexer.quote = quote * 3
                return True
        return self._code_char(lexer, char)

    def _in_string(self, lexer: _Lexer, char: str) -> bool:
        if lexer.escaped:
            lexer.escaped = False
            return True
        if char == "\\":
            lexer.escaped, lexer.quote_run, lexer.string_empty = True, 0, False
            return True
        if len(lexer.quote) == 1:
            if char == "\n":
                return False         # an unterminated string literal
            if char == lexer.quote:
                if lexer.string_empty:
                    lexer.empty_string = lexer.quote
                lexer.quote, lexer.operand = "", "string"
            lexer.string_empty = False
        elif char == lexer.quote[0]:
            lexer.quote_run += 1
            if lexer.quote_run == 3:
                lexer.quote, lexer.quote_run, lexer.operand = "", 0, "string"
        else:
            lexer.quote_run = 0
        return True

    @staticmethod
    def _continues_word(lexer: _Lexer, char: str) -> bool:
        if lexer.number:
            return char.isascii() and (char.isalnum() or char in "._" or (char in "+-" and lexer.word[-1] in "eE"
                                                                         and not lexer.word.lower().startswith("0x")))
        return char.isascii() and (char.isalnum() or char == "_")

    def _end_word(self, lexer: _Lexer, following: str) -> bool:
        word, number, read, after = lexer.word, lexer.number, lexer.word_read, lexer.word_after
        leads, lexer.leading_word = lexer.leading_word, False
        lexer.word, lexer.number, lexer.word_read, lexer.word_after = "", False, False, ""
        value = number or not keyword.iskeyword(word) or word in ("None", "True", "False")
        lexer.operand = "value" if value else ""
        if number:
            return True
        if following in "'\"" and word.lower() in STRING_PREFIXES:
            lexer.quote, lexer.string_empty = following, True
            return after != "value" or self._only_names    # only a string may follow a string
        if after and word not in FOLLOWERS and not self._only_names:
            return False             # `len(s) total`: an operand after an operand
        after_dot, lexer.after_dot = lexer.after_dot, False
        if keyword.iskeyword(word):
            self._keyword(lexer, word)
            return True
        if after_dot:
            return True              # an attribute: the object's business
        if lexer.binding:
            lexer.new_names.append(word)
            if lexer.binding == "as":
                lexer.binding = ""
            return True
        if read:
            return self._allowed_name(word, lexer, following)
        lexer.new_names.append(word)  # a target before the statement's "=" (or a statement's first name)
        if leads and not lexer.brackets:
            lexer.lead = word
        return True

    @staticmethod
    def _keyword(lexer: _Lexer, word: str) -> None:
        depth = len(lexer.brackets)
        if word == "for" and lexer.shapes and lexer.shapes[-1].name:   # a top-level list comprehension
            lexer.shapes = lexer.shapes[:-1] + (replace(lexer.shapes[-1], comprehension=True, required=UNKNOWN),)
        if word == "in" and lexer.binding == "for" and depth == lexer.binding_depth:
            lexer.binding = ""
        elif word in ("for", "def", "class", "lambda"):
            lexer.binding, lexer.binding_depth = word, depth
        elif word in ("import", "from", "global", "nonlocal"):
            lexer.binding, lexer.binding_depth = "import", depth
        elif word == "as":
            lexer.binding, lexer.binding_depth = "as", depth
        if word not in BINDING_KEYWORDS:
            lexer.reading = True

    @staticmethod
    def _starts_read(lexer: _Lexer) -> bool:
        """Whether a name starting now is read (rather than bound or an attribute)."""
        if lexer.after_dot or lexer.binding:
            return False
        return bool(lexer.brackets) or lexer.reading

    def _code_char(self, lexer: _Lexer, char: str) -> bool:
        if char == "\n":
            return self._newline(lexer)
        if char in " \t\r\f":
            lexer.indent += lexer.blank
            return not (lexer.blank and lexer.indent > MAX_INDENT and not self._only_names)
        if not char.isascii():       # `W/m²` outside its quotes: a SyntaxError (the programs' names are ASCII)
            return False
        was_line_start, lexer.line_start = lexer.line_start, False
        if lexer.continued:
            lexer.continued = False
        if char != "#":
            self._parallel_char(lexer, char)
        if char == "#":
            lexer.comment = True     # inside brackets a comment is where a lost sample goes to ramble
            return not lexer.brackets or self._only_names
        if char in "$?" or char == "\\" and lexer.brackets:
            return self._only_names  # never Python outside a string; a continuation inside brackets is idle
        after_operator, lexer.after_operator = lexer.after_operator, char in OPERATORS
        if after_operator and char in ")]},;:" and not self._only_names:
            return False             # `zip(staticmethod/)`, `f(a=)`: an operator with no operand after it
        item_start = bool(lexer.shapes) and char not in ")]},\\" and not lexer.shapes[-1].in_item
        if item_start and not self._start_item(lexer):
            return False
        operand, lexer.operand = lexer.operand, ""
        if char.isalpha() or char == "_":
            lexer.leading_word = was_line_start and not lexer.brackets
            lexer.word, lexer.number, lexer.word_read = char, False, self._starts_read(lexer)
            lexer.word_after = operand
            if operand and not self._may_follow(char):
                return False
            return not lexer.word_read or self._allowed_prefix(char, lexer)
        if char.isdigit() or char in "'\"":
            if operand == "value" or operand and char.isdigit():
                return self._only_names  # `f(x) 5`, `total "kg"`: an operand after an operand
        if char.isdigit():
            lexer.word, lexer.number = char, True
            lexer.after_dot = False
            return True
        after_dot, lexer.after_dot = lexer.after_dot, False
        if char in "'\"":
            lexer.quote, lexer.string_empty = char, True
            return True
        if char == "`":              # never Python: the closing fence, only at a line's start
            if not was_line_start or lexer.brackets:
                return False
            lexer.mode = DONE
            return True
        if char == "\\":
            lexer.continued = True
            return True
        if char in "([{":
            assigned = lexer.assigning if char in "[{" and not operand and not lexer.brackets else ""
            lexer.assigning = ""
            self._open(lexer, char, display=not operand, item_start=item_start, assigned=assigned)
            return True
        if char in ")]}":
            if not lexer.brackets or lexer.brackets[-1] != OPENING[char]:
                return False
            return self._close(lexer)
        depth = len(lexer.brackets)
        if char == "," and depth:
            if not lexer.shapes[-1].in_item and not self._only_names:
                return False         # `[18, 47,\n ,`: an empty item
            lexer.shapes = lexer.shapes[:-1] + (replace(lexer.shapes[-1], in_item=False),)
        if char == ".":
            lexer.after_dot = not after_dot   # ".." is not an attribute; "..." (Ellipsis) is rare
            return True
        if char == "=" and depth == 0:
            lexer.reading = True
        elif char == ":" and lexer.binding == "lambda" and depth == lexer.binding_depth:
            lexer.binding = ""               # the lambda's body reads
        elif char == ";" and depth == 0 or char == ":" and depth == 0 and lexer.binding in ("", "def", "class"):
            self._new_statement(lexer, line_start=False)   # `if x: y = 1`: a statement after a header
        return True

    def _may_follow(self, prefix: str) -> bool:
        """Whether a word starting so may come right after an operand: a keyword that can (`x if`, `x for`,
        `a not in b`, `import numpy as np`), or a string's prefix (`"a" f"b"`)."""
        return self._only_names or prefix.lower() in STRING_PREFIXES or any(k.startswith(prefix) for k in FOLLOWERS)

    # --- parallel lists -------------------------------------------------------------------------
    @staticmethod
    def _parallel_char(lexer: _Lexer, char: str) -> None:
        """Follow `name = [` at the top level through a character that is not a space or a comment."""
        lead, lexer.lead = lexer.lead, ""
        if char not in "[{":
            lexer.assigning = ""      # the bracket that opens the display reads it (_code_char)
        if lexer.brackets:
            return
        lexer.closed = ()           # something follows the list: `[...] + extra` is not its length
        if char == "=" and lead and not lexer.after_operator:
            lexer.assigning = lead  # `name =`, or `name ==` if another "=" comes (it clears this)
            # the name is assigned anew: its old length no longer holds
            lexer.lengths = tuple(entry for entry in lexer.lengths if entry[0] != lead)

    def _parallel_shape(self, name: str, lengths: tuple) -> _Shape:
        """A display opening as `name = [` (or `{`): the lengths its relations give it."""
        known = {entry[0]: entry for entry in lengths}
        required = rows = UNKNOWN
        for first, first_part, part in self._parallel.get(name, ()):
            entry = known.get(first)
            length = UNKNOWN if entry is None else entry[1] if first_part == ITEMS else entry[2]
            if length < 2:
                continue
            if part == ITEMS and required == UNKNOWN:
                required = length
            elif part == ROWS and rows == UNKNOWN:
                rows = length
        return _Shape(display=True, required=required, list_items=rows, name=name, before=lengths)

    def _observe(self, name: str, items: int, rows: int, before: tuple) -> None:
        """A top-level display assigned to a name closed (learn_rules collects these)."""

    # --- shapes ---------------------------------------------------------------------------------
    def _start_item(self, lexer: _Lexer) -> bool:
        shape = lexer.shapes[-1]
        if shape.items == shape.required and not self._only_names:
            return False             # one item more than its first sibling's
        lexer.shapes = lexer.shapes[:-1] + (replace(shape, items=shape.items + 1, in_item=True),)
        return True

    def _open(self, lexer: _Lexer, char: str, display: bool, item_start: bool, assigned: str = "") -> None:
        """A bracket opens. A list or tuple display is a record of the display that holds it: of a list, dict
        or set display wherever it stands in it, of a tuple display when it is a whole item (so in
        `([0] if odd else [1, 2])`, a parenthesised expression, the lists are no records)."""
        parent = lexer.shapes[-1] if lexer.shapes else None
        record = (display and char in "([" and parent is not None and parent.display
                  and (lexer.brackets[-1] in "[{" or item_start))
        required = UNKNOWN
        if record:
            required = parent.list_items if char == "[" else parent.tuple_items
        shape = _Shape(display, record, required)
        if assigned:
            shape = self._parallel_shape(assigned, lexer.lengths)
        lexer.brackets += char
        lexer.shapes += (shape,)

    def _close(self, lexer: _Lexer) -> bool:
        shape, kind = lexer.shapes[-1], lexer.brackets[-1]
        if shape.required != UNKNOWN and shape.items != shape.required and not self._only_names:
            return False             # one item fewer than its first sibling's
        lexer.brackets, lexer.shapes = lexer.brackets[:-1], lexer.shapes[:-1]
        lexer.operand = "value"
        if shape.name:
            items = UNKNOWN if shape.comprehension else shape.items
            rows = UNKNOWN if shape.comprehension else shape.list_items
            self._observe(shape.name, items, rows, shape.before)
            lexer.closed = (shape.name, items, rows)
        if shape.record:
            parent = lexer.shapes[-1]
            if kind == "[" and parent.list_items == UNKNOWN:
                lexer.shapes = lexer.shapes[:-1] + (replace(parent, list_items=shape.items),)
            elif kind == "(" and parent.tuple_items == UNKNOWN:
                lexer.shapes = lexer.shapes[:-1] + (replace(parent, tuple_items=shape.items),)
        return True

    def _newline(self, lexer: _Lexer) -> bool:
        blank, lexer.blank, lexer.indent = lexer.blank, True, 0
        if lexer.after_operator and not (lexer.brackets or lexer.continued) and not self._only_names:
            return False             # `x = y +` ends a statement with an operator
        if lexer.brackets or lexer.continued:
            lexer.continued = False
            # A blank line inside brackets is a model marking time (as when the shape rule wants one more
            # item and the model wants to close): it must write something.
            return not (blank and lexer.brackets and not self._only_names)
        self._new_statement(lexer, line_start=True)
        return True

    @staticmethod
    def _new_statement(lexer: _Lexer, line_start: bool) -> None:
        if lexer.closed:            # `name = [...]` and nothing after it: its lengths hold from here
            lexer.lengths = tuple(entry for entry in lexer.lengths if entry[0] != lexer.closed[0]) + (lexer.closed,)
        lexer.closed, lexer.lead, lexer.assigning = (), "", ""
        lexer.reading, lexer.after_dot, lexer.operand = False, False, ""
        lexer.binding, lexer.binding_depth = "", 0
        lexer.line_start = line_start


def learn_rules(programs: Iterable[str]) -> GuardRules:
    """The rules of a guard for a model trained on these programs, read in one pass over them:
    - free names: the names a guard with none free would refuse in them, their keyword arguments (marked
      `name=` when that is the only way they are read) and comprehension variables (and any other name
      they read before binding it);
    - parallel lists: the relations (first name, its part, second name, its part) every one of them keeps,
      each shown by at least MIN_RELATION_SUPPORT of them, where a list assigned to the second name, after
      one assigned to the first with at least 2 items (or rows), has that many items (or rows).
    With them, the guard accepts every one of the programs that keeps its other rules."""
    keyword_only: dict[str, bool] = {}
    kept: dict[tuple[str, str, str, str], int] = {}
    broken: set[tuple[str, str, str, str]] = set()
    for program in programs:
        guard = _CollectingGuard(keyword_only)
        guard.advance(FENCE_OPEN + program + "\n```")
        for relation, keeps in _shown_relations(guard.displays):
            if keeps:
                kept[relation] = kept.get(relation, 0) + 1
            else:
                broken.add(relation)
    free = sorted(name + KEYWORD_MARK if only else name for name, only in keyword_only.items()
                  if name not in ALWAYS_ALLOWED)
    return GuardRules(tuple(free), tuple(sorted(relation for relation, support in kept.items()
                                                if support >= MIN_RELATION_SUPPORT and relation not in broken)))


def _shown_relations(displays: list[tuple[str, int, int, tuple]]) -> Iterator[tuple[tuple[str, str, str, str], bool]]:
    """Each relation one program's top-level displays show, and whether it keeps it."""
    for name, items, rows, before in displays:
        if items == UNKNOWN:
            continue                   # a comprehension: no count
        for first, first_items, first_rows in before:
            if first == name:
                continue
            for first_part, length in ((ITEMS, first_items), (ROWS, first_rows)):
                if length < 2:
                    continue
                for part, own in ((ITEMS, items), (ROWS, rows)):
                    if part == ROWS and own == UNKNOWN:
                        continue   # it holds no lists: the rule would ask nothing of it
                    yield (first, first_part, name, part), own == length


class _CollectingGuard(CodeGuard):
    """A guard that records the names it would refuse instead of refusing them, each with whether it was
    only ever read as a keyword argument; it applies no other rule (a program that breaks one still gives
    its names)."""

    _only_names = True

    def __init__(self, keyword_only: dict[str, bool]) -> None:
        super().__init__()
        self.keyword_only = keyword_only
        self.displays: list[tuple[str, int, int, tuple]] = []   # (name, items, rows, lengths before it)

    def _observe(self, name: str, items: int, rows: int, before: tuple) -> None:
        self.displays.append((name, items, rows, before))

    def _allowed_prefix(self, prefix: str, lexer: _Lexer) -> bool:
        return True

    def _allowed_name(self, name: str, lexer: _Lexer, following: str) -> bool:
        if not super()._allowed_name(name, lexer, following):
            self.keyword_only[name] = self.keyword_only.get(name, True) and following == "="
        return True


def token_text(texts: Sequence[str], token: int) -> str:
    """A token's text from `token_texts`; a row past the tokenizer's vocabulary has none."""
    return texts[token] if token < len(texts) else ""


def token_texts(tokenizer) -> list[str]:
    """Each token's own text (a special token's is empty; a piece of a multi-byte character decodes as
    U+FFFD, which the guard takes as any other character)."""
    return [tokenizer.decode([token]) for token in range(tokenizer.vocab_size)]


class GuardedSampler:
    """A sampler whose pick the guard must accept: the sampler's own pick when it does (so a guard
    that refuses nothing changes nothing, seeds included), else the next candidate in the sampler's
    order (greedy) or a draw among the candidates left (sampled). When no candidate of the sampler is
    acceptable, the most likely acceptable token of the vocabulary; when none is, the guard gives way
    for the rest of the answer."""

    def __init__(self, sampler, guard: CodeGuard, texts: Sequence[str]) -> None:
        self.sampler, self.guard, self.texts = sampler, guard, texts
        self.refused = 0              # tokens the guard turned down (for tests and diagnostics)

    def _text(self, token: int) -> str:
        return token_text(self.texts, token)

    def __call__(self, logits: np.ndarray) -> int:
        if self.guard is None:
            return self.sampler(logits)
        sampler = self.sampler
        if sampler.options.greedy:
            token = int(np.argmax(logits))
            if self._take(token):
                return token
            chosen = self._first(np.argsort(-logits, kind="stable")[1:], lambda remaining: 0)   # after the argmax
        else:
            tokens, weights = sampler.candidates(logits)
            chosen = self._first(tokens, lambda remaining: sampler._draw(weights[remaining]))
            if chosen is None:
                chosen = self._first(np.argsort(-logits, kind="stable"), lambda remaining: 0)
        if chosen is None:
            self.guard = None
            return int(np.argmax(logits))
        self.guard.advance(self._text(chosen))
        return chosen

    def _take(self, token: int) -> bool:
        if self.guard.accepts(self._text(token)):
            self.guard.advance(self._text(token))
            return True
        self.refused += 1
        return False

    def _first(self, candidates: np.ndarray, draw) -> int | None:
        """The first of `candidates` the guard accepts, picked by `draw(remaining positions)` (an index
        into them), leaving out each refused one."""
        remaining = np.arange(len(candidates))
        while remaining.size:
            position = draw(remaining)
            token = int(candidates[remaining[position]])
            if self.guard.accepts(self._text(token)):
                return token
            self.refused += 1
            remaining = np.delete(remaining, position)
        return None
