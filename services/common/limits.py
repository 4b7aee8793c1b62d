"""Input limits shared by every boundary that accepts images or text."""
from __future__ import annotations

from .settings import env, positive

COMPONENT = "limits"

MAX_BODY_BYTES = env("PERCEPT_MAX_BODY_BYTES", 20 * 1024 * 1024,
                     "Largest request body accepted, in bytes (413 above it).", component=COMPONENT,
                     check=positive)
MAX_IMAGE_PIXELS = env("PERCEPT_MAX_IMAGE_PIXELS", 40_000_000,
                       "Largest decoded image, in pixels (decompression-bomb guard).", component=COMPONENT,
                       check=positive)
MAX_QUERY_CHARS = env("PERCEPT_MAX_QUERY_CHARS", 256,
                      "Longest text query, in characters.", component=COMPONENT, check=positive)
MAX_QUERY_TOKENS = env("PERCEPT_MAX_QUERY_TOKENS", 64,
                       "Most tokens a text query may tokenize into.", component=COMPONENT, check=positive)
