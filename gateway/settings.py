"""Environment variables of the gateway (component "gateway"), and the one settings object
they are parsed into when the process starts (never on the request path)."""
from __future__ import annotations

from dataclasses import dataclass

from services.codeperception import settings as codeperception_settings
from services.common import limits
from services.common.net import local_address
from services.common.settings import (
    LOG_LEVELS,
    EnvVar,
    env,
    host_and_port,
    load,
    non_negative,
    one_of,
    parse_csv,
    port_number,
    positive,
)
from services.models.tokenfd.config import DEFAULT_MAX_TILES, UPSTREAM_THRESHOLD
from services.triton import generation
from services.triton import settings as triton_settings

from .origins import parse_origins

COMPONENT = "gateway"
def cosine(value: float) -> None:
    if not -1.0 <= value <= 1.0:
        raise ValueError("must be a cosine similarity in [-1, 1]")


HOST = env("PERCEPT_GATEWAY_HOST", "127.0.0.1", "Address the gateway binds to (0.0.0.0 in a pod).",
           component=COMPONENT)
PORT = env("PERCEPT_GATEWAY_PORT", 8080, "Gateway HTTP port.", component=COMPONENT, check=port_number)
WORKERS = env("PERCEPT_GATEWAY_WORKERS", 1, "uvicorn worker processes.", component=COMPONENT, check=positive)
TRITON_URL = env("PERCEPT_GATEWAY_TRITON_URL", local_address(triton_settings.GRPC_PORT.default),
                 "Triton gRPC endpoint the gateway calls (host:port). Formerly `PERCEPT_TRITON_URL`, still read "
                 "with a deprecation warning until the next release.", component=COMPONENT, check=host_and_port,
                 deprecated_names=("PERCEPT_TRITON_URL",))
# The gateway's Triton client settings carry the gateway's prefix (PERCEPT_TRITON_* is the Triton
# component's); the former names are read for one release, with a deprecation warning.
TRITON_TIMEOUT_S = env("PERCEPT_GATEWAY_TRITON_TIMEOUT_S", 60.0,
                       "Deadline of one Triton inference call, in seconds. Formerly `PERCEPT_TRITON_TIMEOUT_S`.",
                       component=COMPONENT, check=positive, deprecated_names=("PERCEPT_TRITON_TIMEOUT_S",))
TRITON_RETRIES = env("PERCEPT_GATEWAY_TRITON_RETRIES", 2,
                     "Retries of a Triton call that failed to connect (never of one that reached a model). "
                     "Formerly `PERCEPT_TRITON_RETRIES`.", component=COMPONENT, check=non_negative,
                     deprecated_names=("PERCEPT_TRITON_RETRIES",))
TRITON_RETRY_BACKOFF_S = env("PERCEPT_GATEWAY_TRITON_RETRY_BACKOFF_S", 0.2,
                             "First retry delay in seconds; doubles on each retry. Formerly "
                             "`PERCEPT_TRITON_RETRY_BACKOFF_S`.", component=COMPONENT, check=non_negative,
                             deprecated_names=("PERCEPT_TRITON_RETRY_BACKOFF_S",))
RETRY_AFTER_S = env("PERCEPT_GATEWAY_RETRY_AFTER_S", 2,
                    "Retry-After seconds sent with 503 and 429 answers.", component=COMPONENT, check=positive)
API_KEYS = env("PERCEPT_API_KEYS", (), "Comma-separated API keys; empty turns auth off. Sent as "
               "`Authorization: Bearer <key>` or `X-API-Key`.", component=COMPONENT, parse=parse_csv,
               secret=True)
HEATMAP_MAX_SIDE = env("PERCEPT_HEATMAP_MAX_SIDE", 1024,
                       "Longest side of a returned PNG heatmap, in pixels.", component=COMPONENT, check=positive)
BOX_THRESHOLD = env("PERCEPT_BOX_THRESHOLD", None,
                    "Cosine-similarity threshold of a locate request that names none (boxes and matches). Unset: "
                    "the served checkpoint's recorded threshold (TokenFD-mini's, calibrated on held-out pages), "
                    f"else {UPSTREAM_THRESHOLD} (the upstream binarisation value; official checkpoints record none).",
                    component=COMPONENT, parse=float, check=cosine)
MAX_TILES = env("PERCEPT_MAX_TILES", DEFAULT_MAX_TILES, "Largest tile grid a request may ask for.", component=COMPONENT,
                check=positive)
CODEPERCEPTION_TIMEOUT_S = env("PERCEPT_GATEWAY_CODEPERCEPTION_TIMEOUT_S", 300.0,
                               "Deadline of one call to the code-perception service (generation, renders and "
                               "scoring together), in seconds.", component=COMPONENT, check=positive)
# Generation (chat completions, document VQA): the served model and the gateway's own caps; the model
# refuses on its own caps too (its config's max_images and context_length).
GENERATION_MODEL = env("PERCEPT_GATEWAY_GENERATION_MODEL", generation.TOKENVL_MODEL,
                       "Triton model behind /v1/chat/completions and /v1/documents/vqa (a model implementing "
                       "the generation contract).", component=COMPONENT)
GENERATION_TIMEOUT_S = env("PERCEPT_GATEWAY_GENERATION_TIMEOUT_S", 300.0,
                           "Deadline of one generation stream from Triton, in seconds.", component=COMPONENT,
                           check=positive)
MAX_IMAGES = env("PERCEPT_GATEWAY_MAX_IMAGES", 8, "Most images (PDF pages included) one chat or VQA request "
                 "may carry; the model's own max_images applies too.", component=COMPONENT, check=positive)
MAX_COMPLETION_TOKENS = env("PERCEPT_GATEWAY_MAX_COMPLETION_TOKENS", 2048,
                            "Largest max_tokens a chat or VQA request may ask for.", component=COMPONENT,
                            check=positive)
MAX_PDF_BYTES = env("PERCEPT_GATEWAY_MAX_PDF_BYTES", 10 * 1024 * 1024,
                    "Largest PDF a VQA request may carry, in bytes (413 above it).", component=COMPONENT,
                    check=positive)
MAX_PDF_PAGES = env("PERCEPT_GATEWAY_MAX_PDF_PAGES", 8,
                    "Most PDF pages one VQA request may select (422 too_many_pages above it).",
                    component=COMPONENT, check=positive)
PDF_DPI = env("PERCEPT_GATEWAY_PDF_DPI", 144, "Resolution PDF pages are rendered at (lower for pages that would "
              "exceed PERCEPT_MAX_IMAGE_PIXELS).", component=COMPONENT, check=positive)
IMAGE_URL_ALLOWLIST = env("PERCEPT_GATEWAY_IMAGE_URL_ALLOWLIST", (),
                          "Comma-separated origins (`https://host[:port]`) whose `image_url`s the gateway fetches; "
                          "empty: only data: URIs are accepted.", component=COMPONENT, parse=parse_origins)
IMAGE_URL_TIMEOUT_S = env("PERCEPT_GATEWAY_IMAGE_URL_TIMEOUT_S", 5.0,
                          "Deadline of fetching one allowed `image_url`, in seconds.", component=COMPONENT,
                          check=positive)
IMAGE_URL_MAX_BYTES = env("PERCEPT_GATEWAY_IMAGE_URL_MAX_BYTES", 10 * 1024 * 1024,
                          "Largest image fetched from an allowed `image_url`, in bytes.", component=COMPONENT,
                          check=positive)
LOG_LEVEL = env("PERCEPT_LOG_LEVEL", "info", "Log level of the gateway.", component=COMPONENT,
                check=one_of(*LOG_LEVELS))


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the gateway reads from the environment, parsed and checked once."""

    host: str
    port: int
    workers: int
    log_level: str
    triton_url: str
    triton_timeout_s: float
    triton_retries: int
    triton_retry_backoff_s: float
    retry_after_s: int
    api_keys: tuple[str, ...]
    heatmap_max_side: int
    box_threshold: float | None   # None: the served model's recorded threshold, else UPSTREAM_THRESHOLD
    max_tiles: int
    max_body_bytes: int
    max_image_pixels: int
    max_query_chars: int
    max_query_tokens: int
    codeperception_url: str
    codeperception_timeout_s: float
    max_code_bytes: int
    max_candidates: int
    max_refine_renders: int
    generation_model: str
    generation_timeout_s: float
    max_images: int
    max_completion_tokens: int
    max_pdf_bytes: int
    max_pdf_pages: int
    pdf_dpi: int
    image_url_allowlist: tuple[str, ...]
    image_url_timeout_s: float
    image_url_max_bytes: int

    def locate_threshold(self, recorded: float | None) -> float:
        """The threshold of a locate request that names none: PERCEPT_BOX_THRESHOLD when set, else the
        served model's recorded one (`recorded`), else upstream's."""
        if self.box_threshold is not None:
            return self.box_threshold
        return UPSTREAM_THRESHOLD if recorded is None else recorded

    @classmethod
    def from_env(cls, **overrides) -> "GatewaySettings":
        """Raise SettingsError naming every bad variable (the gateway's, the shared limits, and the
        code-perception client's URL)."""
        values = _load_sources()
        fields = {name: values[var.name] for name, var in _SOURCES.items()}
        return cls(**{**fields, **overrides})


def _load_sources() -> dict[str, object]:
    """Every variable in _SOURCES, all bad ones named at once; the code-perception URL is declared
    by that service's settings (the client side), so it is read alone, not its whole component."""
    return load(COMPONENT, limits.COMPONENT, also=_FOREIGN)


# Which variable fills which field.
_SOURCES = {
    "host": HOST, "port": PORT, "workers": WORKERS, "log_level": LOG_LEVEL,
    "triton_url": TRITON_URL, "triton_timeout_s": TRITON_TIMEOUT_S, "triton_retries": TRITON_RETRIES,
    "triton_retry_backoff_s": TRITON_RETRY_BACKOFF_S, "retry_after_s": RETRY_AFTER_S, "api_keys": API_KEYS,
    "heatmap_max_side": HEATMAP_MAX_SIDE, "box_threshold": BOX_THRESHOLD, "max_tiles": MAX_TILES,
    "max_body_bytes": limits.MAX_BODY_BYTES, "max_image_pixels": limits.MAX_IMAGE_PIXELS,
    "max_query_chars": limits.MAX_QUERY_CHARS, "max_query_tokens": limits.MAX_QUERY_TOKENS,
    "codeperception_url": codeperception_settings.URL, "codeperception_timeout_s": CODEPERCEPTION_TIMEOUT_S,
    "max_code_bytes": limits.MAX_CODE_BYTES, "max_candidates": limits.MAX_CANDIDATES,
    "max_refine_renders": limits.MAX_REFINE_RENDERS,
    "generation_model": GENERATION_MODEL, "generation_timeout_s": GENERATION_TIMEOUT_S, "max_images": MAX_IMAGES,
    "max_completion_tokens": MAX_COMPLETION_TOKENS, "max_pdf_bytes": MAX_PDF_BYTES, "max_pdf_pages": MAX_PDF_PAGES,
    "pdf_dpi": PDF_DPI, "image_url_allowlist": IMAGE_URL_ALLOWLIST, "image_url_timeout_s": IMAGE_URL_TIMEOUT_S,
    "image_url_max_bytes": IMAGE_URL_MAX_BYTES,
}
_FOREIGN: tuple[EnvVar, ...] = (codeperception_settings.URL,)
