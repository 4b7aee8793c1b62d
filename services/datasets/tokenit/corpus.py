"""Text for pages: English prose that ships with Python, plus generated fields.

Prose: the reference topics of Python's documentation (``pydoc_data.topics``, what ``help()``
shows) and the docstrings of a fixed list of standard-library modules, cut into paragraphs of
plain sentences (code, grammar rules and tables are dropped). It depends on the Python version
only, never on the network. Fields: names, dates, amounts, codes, phone numbers, e-mail
addresses and the like, drawn from a seeded ``random.Random``, for forms, invoices and receipts.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import random
import re
import unicodedata
import warnings

DOCSTRING_MODULES = ("abc", "argparse", "ast", "asyncio", "base64", "bisect", "builtins", "calendar", "cmd",
                     "codecs", "collections", "concurrent.futures", "configparser", "contextlib", "copy", "csv",
                     "dataclasses", "datetime", "decimal", "difflib", "doctest", "email.message", "enum",
                     "filecmp", "fileinput", "fractions", "ftplib", "functools", "gettext", "glob", "gzip",
                     "hashlib", "heapq", "hmac", "html.parser", "http.client", "http.server", "imaplib",
                     "inspect", "io", "ipaddress", "json", "locale", "logging", "mailbox", "math", "mimetypes",
                     "multiprocessing", "operator", "optparse", "os", "pathlib", "pdb", "pickle", "platform",
                     "poplib", "pprint", "queue", "random", "re", "sched", "secrets", "selectors", "shelve",
                     "shlex", "shutil", "signal", "smtplib", "socket", "socketserver", "ssl", "statistics",
                     "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "time",
                     "timeit", "tokenize", "traceback", "types", "typing", "unittest", "urllib.parse",
                     "urllib.request", "uuid", "warnings", "weakref", "xml.dom.minidom", "zipfile", "zoneinfo")
MIN_WORDS = 6
_CODE = re.compile(r">>>|\.\.\.\s|::=|[{}\[\]<>=|\\`*~^]|\w\(|\)\w|__|\s{3,}")
_SPACES = re.compile(r"\s+")
# Typographic characters to their ASCII forms, so every face can draw the text.
_ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                        "\u2014": "-", "\u2026": "...", "\u00a0": " "})


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return text.encode("ascii", "ignore").decode()


def _paragraphs(text: str) -> list[str]:
    """Plain prose paragraphs of a documentation text: blocks of lines that start flush left
    (indented blocks are code or grammar), without code-like characters."""
    kept = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.splitlines()
        if not lines or any(line.startswith((" ", "\t")) for line in lines[1:]) or lines[0].startswith("   "):
            continue
        if any(set(line.strip()) <= set("*=-~^#") for line in lines):   # headings underlined
            continue
        paragraph = _SPACES.sub(" ", _ascii(" ".join(lines))).strip()
        if len(paragraph.split()) >= MIN_WORDS and not _CODE.search(paragraph):
            kept.append(paragraph)
    return kept


def _docstrings(module) -> list[str]:
    """The module's docstring, its own classes' and functions', and their methods'."""
    texts = [inspect.getdoc(module) or ""]
    for _, member in sorted(vars(module).items()):
        if (inspect.isclass(member) or inspect.isfunction(member)) and \
                getattr(member, "__module__", None) == module.__name__:
            texts.append(inspect.getdoc(member) or "")
            if inspect.isclass(member):
                texts.extend(inspect.getdoc(f) or "" for _, f in sorted(vars(member).items())
                             if inspect.isfunction(f))
    return texts


@functools.lru_cache(maxsize=1)
def prose() -> tuple[str, ...]:
    """Every paragraph of the corpus, in a stable order."""
    from pydoc_data.topics import topics

    texts = [topics[key] for key in sorted(topics)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # deprecated modules still document plain English
        for name in DOCSTRING_MODULES:
            texts.extend(_docstrings(importlib.import_module(name)))
    paragraphs = dict.fromkeys(p for text in texts for p in _paragraphs(text))   # unique, ordered
    return tuple(paragraphs)


def words() -> tuple[str, ...]:
    """The corpus's words (with their punctuation), for titles and table cells."""
    return tuple(w for p in prose() for w in p.split())


# --- generated fields --------------------------------------------------------------
FIRST_NAMES = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Giulia", "Hiroshi", "Ines", "Jonas",
               "Kavya", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samuel", "Tariq",
               "Ursula", "Victor", "Wen", "Ximena", "Yusuf", "Zoe")
LAST_NAMES = ("Anderson", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova",
              "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
              "Schmidt", "Tanaka", "Umar", "Varga", "Weber", "Xu", "Yilmaz", "Zhang")
CITIES = ("Amsterdam", "Berlin", "Chicago", "Dublin", "Edinburgh", "Florence", "Geneva", "Helsinki", "Lisbon",
          "Madrid", "Nairobi", "Oslo", "Prague", "Seattle", "Toronto", "Vienna", "Warsaw", "Zurich")
STREETS = ("Main Street", "Oak Avenue", "Harbour Road", "Station Square", "Mill Lane", "Park Drive",
           "King Street", "River Walk", "Church Road", "Market Place")
COMPANIES = ("Acme Supplies", "Northwind Traders", "Blue Harbor Ltd", "Summit Analytics", "Greenfield Foods",
             "Orion Logistics", "Maple & Sons", "Vertex Labs", "Silverline Print", "Redwood Consulting")
ITEMS = ("Paper A4 ream", "Toner cartridge", "Desk lamp", "USB cable", "Office chair", "Notebook",
         "Coffee beans", "Green tea", "Bread roll", "Orange juice", "Printer service", "Consulting hours",
         "Shipping", "Screws M4", "Monitor stand", "Stapler", "Whiteboard markers", "Sandwich", "Salad bowl")
FORM_LABELS = ("Name", "Date", "Address", "City", "Phone", "E-mail", "Account", "Reference", "Customer ID",
               "Invoice No.", "Order No.", "Due date", "Signature", "Department", "Amount", "Tax ID")
# Words of business documents that the prose lacks (headers of invoices, receipts and tables).
DOCUMENT_WORDS = ("Invoice", "Receipt", "Total", "Subtotal", "Tax", "VAT", "Qty", "Quantity", "Price",
                  "Unit price", "Description", "Item", "Amount due", "Balance", "Paid", "Cash", "Change",
                  "Card", "Thank you for your visit", "Bill to", "Ship to", "Payment terms", "Net 30",
                  "Page", "Report", "Summary", "Introduction", "Results", "Conclusion", "Table", "Figure",
                  "Agenda", "Overview", "Next steps", "Questions", "Contact", "Hello", "Welcome")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def date(rng: random.Random) -> str:
    year, month, day = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    style = rng.randrange(4)
    if style == 0:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if style == 1:
        return f"{day:02d}/{month:02d}/{year:04d}"
    if style == 2:
        return f"{MONTHS[month - 1]} {day}, {year}"
    return f"{day} {MONTHS[month - 1][:3]} {year}"


def amount(rng: random.Random) -> str:
    value = rng.choice((rng.uniform(0.5, 99), rng.uniform(10, 9999)))
    currency = rng.choice(("$", "", "EUR ", "GBP "))
    return f"{currency}{value:,.2f}"


def code(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(2, 3)))
    return f"{letters}-{rng.randint(100, 99999)}"


def phone(rng: random.Random) -> str:
    return f"+{rng.randint(1, 49)} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES).lower()}@example.org"


def address(rng: random.Random) -> str:
    return f"{rng.randint(1, 250)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"


def field_value(rng: random.Random, label: str) -> str:
    """A plausible value for a form label."""
    if label in ("Name", "Signature"):
        return person(rng)
    if "date" in label.lower() or label == "Date":
        return date(rng)
    if label in ("Address",):
        return address(rng)
    if label == "City":
        return rng.choice(CITIES)
    if label == "Phone":
        return phone(rng)
    if label == "E-mail":
        return email(rng)
    if label == "Amount":
        return amount(rng)
    if label == "Department":
        return rng.choice(("Finance", "Sales", "Research", "Operations", "Legal"))
    return code(rng)


def sentences(rng: random.Random, count: int) -> str:
    """`count` consecutive sentences of one randomly chosen paragraph run (real running text)."""
    paragraphs = prose()
    start = rng.randrange(len(paragraphs))
    text, index = [], start
    while sum(len(t.split(". ")) for t in text) < count:
        text.append(paragraphs[index % len(paragraphs)])
        index += 1
    return " ".join(". ".join(" ".join(text).split(". ")[:count]).split())
