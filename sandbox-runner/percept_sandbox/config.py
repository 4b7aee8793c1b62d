"""The runner's configuration, resolved once from the environment (and CLI flags).

One frozen object for every layer: the pool reads it, the zygote receives it whole
(`to_message` / `from_message` over the control channel) and each jailed child reads
its limits from it; derived values are properties here, computed in one place.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, replace

from . import settings
from .render.protocol import RenderLimits

MIB = 1024 * 1024
# "jail": namespaces per render; "pod": the pod is the outer wall (docs/sandbox.md, Kubernetes).
ISOLATION_MODES = ("jail", "pod")


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SandboxConfig:
    workers: int
    queue_size: int
    default_timeout_s: float
    max_timeout_s: float
    memory_bytes: int
    tmpfs_bytes: int
    file_bytes: int
    processes: int
    open_files: int
    max_code_bytes: int
    max_dpi: int
    max_figures: int
    max_figure_pixels: int
    max_image_bytes: int
    max_output_bytes: int
    output_tail_bytes: int
    max_trace_bytes: int
    jail_uid: int
    jail_gid: int
    runtime_dir: str
    mplconfigdir: str
    prefault: bool
    isolation: str
    max_connection_age_s: float
    insecure_no_isolation: bool
    log_level: str

    @classmethod
    def from_env(cls, **overrides) -> "SandboxConfig":
        config = cls(
            workers=settings.WORKERS.get() or available_cores(),
            queue_size=settings.QUEUE_SIZE.get(),
            default_timeout_s=settings.TIMEOUT_S.get(),
            max_timeout_s=settings.MAX_TIMEOUT_S.get(),
            memory_bytes=settings.MEMORY_MB.get() * MIB,
            tmpfs_bytes=settings.TMPFS_MB.get() * MIB,
            file_bytes=settings.MAX_FILE_MB.get() * MIB,
            processes=settings.MAX_PROCESSES.get(),
            open_files=settings.MAX_OPEN_FILES.get(),
            max_code_bytes=settings.MAX_CODE_BYTES.get(),
            max_dpi=settings.MAX_DPI.get(),
            max_figures=settings.MAX_FIGURES.get(),
            max_figure_pixels=settings.MAX_FIGURE_PIXELS.get(),
            max_image_bytes=settings.MAX_IMAGE_BYTES.get(),
            max_output_bytes=settings.MAX_OUTPUT_BYTES.get(),
            output_tail_bytes=settings.OUTPUT_TAIL_BYTES.get(),
            max_trace_bytes=settings.MAX_TRACE_BYTES.get(),
            jail_uid=settings.JAIL_UID.get(),
            jail_gid=settings.JAIL_GID.get(),
            runtime_dir=settings.RUNTIME_DIR.get(),
            mplconfigdir=settings.MPLCONFIGDIR.get(),
            prefault=settings.PREFAULT.get(),
            isolation=settings.ISOLATION.get().strip().lower(),
            max_connection_age_s=settings.MAX_CONNECTION_AGE_S.get(),
            insecure_no_isolation=settings.INSECURE_NO_ISOLATION.get(),
            log_level=settings.LOG_LEVEL.get(),
        )
        overrides = {k: v for k, v in overrides.items() if v is not None}
        config = replace(config, **overrides)
        config.validate()
        return config

    @classmethod
    def from_message(cls, message: dict) -> "SandboxConfig":
        return cls(**message)

    def to_message(self) -> dict:
        return dataclasses.asdict(self)

    def render_limits(self) -> RenderLimits:
        return RenderLimits(self.max_figures, self.max_figure_pixels, self.max_image_bytes, self.max_trace_bytes)

    @property
    def uses_namespaces(self) -> bool:
        return self.isolation == "jail"

    @property
    def max_cpu_s(self) -> int:
        """RLIMIT_CPU of a waiting child: enough for the longest timeout a request may ask for."""
        return int(math.ceil(self.max_timeout_s)) + 1

    def cpu_limit_s(self, timeout_s: float) -> int:
        """RLIMIT_CPU of one render: its timeout plus a second, never above max_cpu_s."""
        return min(self.max_cpu_s, int(timeout_s) + 1)

    @property
    def address_space_bytes(self) -> int:
        """RLIMIT_AS of a render: its memory cap less its /tmp, which is memory too (tmpfs).
        A render is one process (new processes are refused), so this bounds all of it."""
        return self.memory_bytes - self.tmpfs_bytes

    def validate(self) -> None:
        problems = []
        if self.workers < 1:
            problems.append("workers must be at least 1")
        if self.queue_size < 0:
            problems.append("queue size must not be negative")
        if not 0 < self.default_timeout_s <= self.max_timeout_s:
            problems.append("the default timeout must be positive and at most the maximum timeout")
        if self.address_space_bytes < 256 * MIB:
            problems.append("the memory limit less the tmpfs size must be at least 256 MiB "
                            "(the libraries alone map more)")
        if not self.max_connection_age_s > 0:
            problems.append("the maximum connection age must be positive")
        if self.isolation not in ISOLATION_MODES:
            problems.append(f"the isolation mode must be one of {', '.join(ISOLATION_MODES)}")
        if self.jail_uid == 0 or self.jail_gid == 0:
            problems.append("the jail uid/gid must not be 0")
        if problems:
            raise ValueError("; ".join(problems))
