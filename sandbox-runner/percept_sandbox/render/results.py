"""Plain data of a render: options in, result out (no gRPC, no I/O)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    OK = "OK"
    EXEC_ERROR = "EXEC_ERROR"  # the program raised, crashed or exited early
    TIMEOUT = "TIMEOUT"  # wall-clock or CPU limit
    MEMORY_LIMIT = "MEMORY_LIMIT"  # address-space limit
    OUTPUT_LIMIT = "OUTPUT_LIMIT"  # too many or too large figures, too much stdout/stderr
    NO_FIGURE = "NO_FIGURE"  # the program ran but drew nothing
    REJECTED = "REJECTED"  # the program was not run: it does not compile


class ImageFormat(str, Enum):
    PNG = "png"
    SVG = "svg"


@dataclass(frozen=True)
class RenderOptions:
    dpi: int = 100
    format: ImageFormat = ImageFormat.PNG
    timeout_s: float | None = None  # None: the runner's default
    trace: bool = True


DEFAULT_OPTIONS = RenderOptions()  # frozen, so one shared instance is a safe default argument


@dataclass(frozen=True)
class RenderedFigure:
    index: int  # creation order, from 0
    format: ImageFormat
    data: bytes
    width_px: int
    height_px: int


@dataclass
class RenderResult:
    status: Status
    figures: list[RenderedFigure] = field(default_factory=list)
    stdout_tail: str = ""
    stderr_tail: str = ""
    stdout_bytes: int = 0  # total written, of which the tail is the end
    stderr_bytes: int = 0
    error_type: str = ""
    error_message: str = ""
    detail: str = ""  # why the status is what it is, for people
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_bytes: int = 0
    trace_json: str = ""  # empty when not requested or not reached

    def summary(self) -> dict:
        """JSON-friendly view without the image bytes."""
        return {
            "status": self.status.value,
            "figures": [{"index": f.index, "format": f.format.value, "width_px": f.width_px,
                         "height_px": f.height_px, "bytes": len(f.data)} for f in self.figures],
            "stdout_tail": self.stdout_tail,
            "stderr_tail": self.stderr_tail,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "detail": self.detail,
            "timings": {"wall_s": round(self.wall_s, 4), "cpu_s": round(self.cpu_s, 4),
                        "peak_memory_bytes": self.peak_memory_bytes},
        }
