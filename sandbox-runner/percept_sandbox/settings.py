"""Environment variables of the sandbox-runner, declared once.

The runner is self-contained (its own image), so it carries its own small
declaration helper instead of importing the platform's. Every variable it reads
is declared here with a default and a meaning; `python -m percept_sandbox.settings`
prints them as the markdown table that docs/sandbox.md and the README carry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

PREFIX = "PERCEPT_SANDBOX_"
_DECLARED: list["Setting"] = []


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


@dataclass(frozen=True)
class Setting(Generic[T]):
    name: str
    default: T
    help: str
    parse: Callable[[str], T]

    def get(self) -> T:
        raw = os.environ.get(self.name, "")
        if raw == "":
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ValueError(f"environment variable {self.name}={raw!r} is invalid: {exc}") from exc


def declare(suffix: str, default: T, help: str) -> Setting[T]:
    parse: Callable[[str], T]
    if isinstance(default, bool):
        parse = _parse_bool  # type: ignore[assignment]
    else:
        parse = type(default)  # type: ignore[assignment]
    setting = Setting(PREFIX + suffix, default, help, parse)
    _DECLARED.append(setting)
    return setting


GRPC_HOST = declare("GRPC_HOST", "127.0.0.1", "Address the gRPC server binds (use 0.0.0.0 in a pod).")
GRPC_PORT = declare("GRPC_PORT", 50061, "gRPC port of the sandbox service (Render, health, reflection).")
METRICS_HOST = declare("METRICS_HOST", "127.0.0.1", "Address the Prometheus /metrics HTTP server binds.")
METRICS_PORT = declare("METRICS_PORT", 9461, "Port of the Prometheus /metrics HTTP server.")
WORKERS = declare("WORKERS", 0, "Renders run at the same time; 0 means one per available CPU core.")
QUEUE_SIZE = declare("QUEUE_SIZE", 16, "Requests that may wait for a worker; beyond it RESOURCE_EXHAUSTED.")
TIMEOUT_S = declare("TIMEOUT_S", 30.0, "Default wall-clock limit of one render, in seconds.")
MAX_TIMEOUT_S = declare("MAX_TIMEOUT_S", 120.0, "Largest wall-clock limit a request may ask for, in seconds.")
MEMORY_MB = declare("MEMORY_MB", 2048, "Memory of one render, its threads and its /tmp together (RLIMIT_AS is this "
                    "less TMPFS_MB; a render cannot start processes), in MiB.")
TMPFS_MB = declare("TMPFS_MB", 64, "Size of the private writable tmpfs each render gets at /tmp, in MiB.")
MAX_FILE_MB = declare("MAX_FILE_MB", 32, "Largest file a render may write (RLIMIT_FSIZE), in MiB.")
MAX_PROCESSES = declare("MAX_PROCESSES", 32, "Threads a render may run (RLIMIT_NPROC; new processes are refused "
                        "by seccomp).")
MAX_OPEN_FILES = declare("MAX_OPEN_FILES", 128, "Open file descriptors a render may hold (RLIMIT_NOFILE).")
MAX_CODE_BYTES = declare("MAX_CODE_BYTES", 256 * 1024,
                         "Largest program accepted, in bytes (INVALID_ARGUMENT above); keep it the platform's "
                         "PERCEPT_MAX_CODE_BYTES (`make up` and the chart pass that value).")
MAX_DPI = declare("MAX_DPI", 600, "Largest DPI a request may ask for.")
MAX_FIGURES = declare("MAX_FIGURES", 16, "Most figures one render may return (OUTPUT_LIMIT above).")
MAX_FIGURE_PIXELS = declare("MAX_FIGURE_PIXELS", 50_000_000,
                            "Largest figure, in pixels at the requested DPI (OUTPUT_LIMIT above).")
MAX_IMAGE_BYTES = declare("MAX_IMAGE_BYTES", 32 * 1024 * 1024,
                          "Largest total size of the returned images, in bytes (OUTPUT_LIMIT above).")
MAX_OUTPUT_BYTES = declare("MAX_OUTPUT_BYTES", 8 * 1024 * 1024,
                           "Most bytes a render may write to stdout and stderr together (OUTPUT_LIMIT above).")
OUTPUT_TAIL_BYTES = declare("OUTPUT_TAIL_BYTES", 8192, "Bytes of the stdout and stderr tails returned.")
MAX_TRACE_BYTES = declare("MAX_TRACE_BYTES", 256 * 1024,
                          "Largest execution trace, in bytes of JSON (longer traces are trimmed).")
JAIL_UID = declare("JAIL_UID", 65534, "Host uid the jail maps to when the runner is started as root.")
JAIL_GID = declare("JAIL_GID", 65534, "Host gid the jail maps to when the runner is started as root.")
RUNTIME_DIR = declare("RUNTIME_DIR", "",
                      "Where the runner creates its private state directory (removed at exit); empty means "
                      "the system's temporary directory.")
MPLCONFIGDIR = declare("MPLCONFIGDIR", "",
                       "Prepared matplotlib config and font cache (copied if read-only); empty means "
                       "$XDG_CACHE_HOME/percept-sandbox/mplconfig.")
PREFAULT = declare("PREFAULT", False,
                   "Pre-fault, in each waiting child, the pages every render writes: lower latency on an idle "
                   "machine, more CPU per render under load.")
ISOLATION = declare(
    "ISOLATION", "jail",
    "`jail`: each render in its own user, mount, PID, network, IPC and UTS namespaces (a bare machine, or a pod "
    "whose seccomp profile allows them). `pod`: the pod is the outer wall (gVisor, a no-egress NetworkPolicy, a "
    "read-only root); each render is still a fresh process with seccomp, rlimits, a clean environment and a "
    "private directory, without namespaces.")
MAX_CONNECTION_AGE_S = declare(
    "MAX_CONNECTION_AGE_S", 30.0,
    "Seconds after which the server asks a client to reconnect (gRPC max connection age; renders in flight "
    "finish first): clients balancing over a headless Service re-resolve then and find pods added since.")
INSECURE_NO_ISOLATION = declare(
    "INSECURE_NO_ISOLATION", False,
    "DANGER: start even when user namespaces or seccomp are unavailable, running code without them.")
LOG_LEVEL = declare("LOG_LEVEL", "INFO", "Log level of the runner (DEBUG, INFO, WARNING, ERROR).")


def declared() -> list[Setting]:
    return list(_DECLARED)


def markdown_table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in _DECLARED:
        default = setting.default
        shown = ("true" if default else "false") if isinstance(default, bool) else (str(default) or "(empty)")
        lines.append(f"| `{setting.name}` | `{shown}` | {setting.help} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
