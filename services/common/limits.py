"""Input limits shared by every boundary that accepts images, text or programs.

One variable per limit: the outermost boundary (the gateway) checks it first, and an inner service
that a gRPC client can reach directly (code perception) refuses the same value from the same
variable. The sandbox-runner is self-contained and declares its own PERCEPT_SANDBOX_MAX_CODE_BYTES:
`make up` and the chart hand it PERCEPT_MAX_CODE_BYTES, and tests/unit/test_one_source.py checks
that the defaults agree.
"""
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
MAX_CODE_BYTES = env("PERCEPT_MAX_CODE_BYTES", 256 * 1024,
                     "Largest program a STEM request carries, in UTF-8 bytes: 413 at the gateway, "
                     "payload_too_large from code perception's Render and Score, and a generated candidate above "
                     "it is REJECTED. `make up` and the chart give the sandbox-runner the "
                     "same value (as PERCEPT_SANDBOX_MAX_CODE_BYTES).", component=COMPONENT, check=positive,
                     deprecated_names=("PERCEPT_GATEWAY_MAX_CODE_BYTES", "PERCEPT_CODEPERCEPTION_MAX_CODE_BYTES"))
MAX_CANDIDATES = env("PERCEPT_MAX_CANDIDATES", 8,
                     "Most candidates (best-of-N) one image-to-code request may ask for, at the gateway and at "
                     "code perception.", component=COMPONENT, check=positive,
                     deprecated_names=("PERCEPT_GATEWAY_MAX_CANDIDATES", "PERCEPT_CODEPERCEPTION_MAX_CANDIDATES"))
MAX_REFINE_RENDERS = env("PERCEPT_MAX_REFINE_RENDERS", 64,
                         "Most renders one image-to-code request may spend refining its best candidate "
                         "(`refine_renders`), at the gateway and at code perception.", component=COMPONENT,
                         check=positive)