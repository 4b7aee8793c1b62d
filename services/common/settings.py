"""Configuration from environment variables, declared once.

Every variable a component reads is declared with `env(...)` in that component's
settings module. The declarations are the single source of truth: the README's
configuration table and the Helm chart's settings file are generated from them
(`python -m services.settings_docs --write`, which sits above the components it reads) and
tests check that both are current.

A declaration may carry a range `check`. Each process reads and checks all of its
components' variables when it starts (`load(...)`, or `exit_on_invalid(...)` in a main),
so a malformed value stops start-up with a message naming the variable instead of
failing a request later.

A declaration marked `secret=True` (an API key) may also be given as a file: `NAME_FILE`
names a file holding the value, as a Kubernetes Secret volume or a Docker secret provides it.
Setting both `NAME` and `NAME_FILE` is a start-up error (two sources of one secret, one of
them silently ignored, is how a rotated key keeps the old one alive); an unreadable file is a
start-up error naming the variable; trailing newlines are stripped (`echo key > file` writes
one). A secret's value never appears in an error message.
"""
from __future__ import annotations

import logging
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

_REGISTRY: dict[str, "EnvVar"] = {}
_log = logging.getLogger("percept.settings")


class SettingsError(ValueError):
    """One or more environment variables hold values their component cannot use."""


@dataclass(frozen=True)
class EnvVar(Generic[T]):
    name: str
    default: T
    parse: Callable[[str], T]
    help: str
    component: str
    # Raises ValueError when a parsed value is out of range (e.g. a negative timeout).
    check: Callable[[T], None] | None = None
    # A secret may come from the file named by `file_variable` instead; its value is never echoed.
    secret: bool = False
    # Former names, still read (with a warning) for one release when `name` itself is unset.
    deprecated_names: tuple[str, ...] = ()

    @property
    def file_variable(self) -> str:
        return f"{self.name}{FILE_SUFFIX}"

    def get(self) -> T:
        raw = self._secret_from_file() if self.secret else None
        name = self.name
        if raw is None:
            name, raw = self._raw_value()
        if raw is None or raw == "":
            return self.default
        try:
            value = self.parse(raw)
            if self.check is not None:
                self.check(value)
        except ValueError as exc:
            shown = name if self.secret else f"{name}={raw!r}"
            raise SettingsError(f"environment variable {shown} is invalid: {exc}") from exc
        return value

    def _raw_value(self) -> tuple[str, str | None]:
        """(the variable read, its raw value): `name`, else the first former name that is set."""
        raw = os.environ.get(self.name)
        if raw:
            return self.name, raw
        for old in self.deprecated_names:
            if os.environ.get(old):
                _log.warning("environment variable %s is deprecated and will be removed in the next release: "
                             "set %s instead", old, self.name)
                return old, os.environ[old]
        return self.name, raw

    def _secret_from_file(self) -> str | None:
        """The content of the file NAME_FILE names (trailing newlines stripped), or None when unset."""
        path = os.environ.get(self.file_variable, "")
        if not path:
            return None
        if os.environ.get(self.name):
            raise SettingsError(f"environment variables {self.name} and {self.file_variable} are both set: "
                                f"give the secret one way only")
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SettingsError(f"environment variable {self.file_variable}={path!r}: cannot read the "
                                f"file: {reason}") from exc


# NAME_FILE carries a secret NAME as a file path (the convention of Docker's and many images' secrets).
FILE_SUFFIX = "_FILE"


# --- range checks for `env(..., check=...)` -------------------------------------------

def positive(value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError("must be a finite number above 0")


def non_negative(value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("must be a finite number of 0 or more")


def port_number(value: int) -> None:
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port (1-65535)")


def one_of(*choices: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value.lower() not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
    return check


def host_and_port(value: str) -> None:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("must be host:port")
    port_number(int(port))


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


# --- start-up validation ---------------------------------------------------------------

def load(*components: str, also: tuple[EnvVar, ...] = ()) -> dict[str, object]:
    """Read and check every declared variable of these components, at process start.

    `also` adds single variables of other components (a client reading one setting a
    service declares). Returns {name: value}. Collects every bad value before raising, so
    one start-up attempt names all of them (SettingsError, one line per variable)."""
    values, problems = {}, []
    for var in [*(var for var in registered() if var.component in components), *also]:
        try:
            values[var.name] = var.get()
        except SettingsError as exc:
            problems.append(str(exc))
    if problems:
        raise SettingsError("\n".join(problems))
    return values


def exit_on_invalid(program: str, *components: str) -> dict[str, object]:
    """`load()` for a process's main(): a bad value ends start-up with a message naming it."""
    try:
        return load(*components)
    except SettingsError as exc:
        print(f"{program}: invalid configuration, not starting:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def parse_csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def env(name: str, default: T, help: str, *, component: str, parse: Callable[[str], T] | None = None,
        check: Callable[[T], None] | None = None, secret: bool = False,
        deprecated_names: tuple[str, ...] = ()) -> EnvVar[T]:
    """Declare an environment variable; re-declaring the same name must agree. `secret=True`: the
    value may also be read from the file NAME_FILE names (see the module's docstring).
    `deprecated_names`: the variable's former names, read when it is unset, each use logged as a
    deprecation warning; a rename keeps them for one release."""
    if parse is None:
        if isinstance(default, bool):
            parse = parse_bool  # type: ignore[assignment]
        elif isinstance(default, (int, float, str)):
            parse = type(default)  # type: ignore[assignment]
        else:
            raise TypeError(f"{name}: give a parser for default {default!r}")
    var = EnvVar(name, default, parse, help, component, check, secret, deprecated_names)  # type: ignore[arg-type]
    taken = {n for v in _REGISTRY.values() if v.name != name for n in (v.name, *v.deprecated_names)}
    if taken & {name, *deprecated_names}:
        raise ValueError(f"environment variable {name} or a former name of it is declared elsewhere")
    if (secret and var.file_variable in _REGISTRY) or any(v.secret and v.file_variable == name
                                                          for v in _REGISTRY.values()):
        raise ValueError(f"environment variable {name} clashes with a secret's {FILE_SUFFIX} variable")
    known = _REGISTRY.get(name)
    if known is not None and (known.default, known.component) != (default, component):
        raise ValueError(f"environment variable {name} declared twice with different defaults")
    _REGISTRY[name] = var
    return var


def registered() -> list[EnvVar]:
    return sorted(_REGISTRY.values(), key=lambda v: (v.component, v.name))
