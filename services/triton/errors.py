"""How a typed error crosses Triton: inside the error message, as "[code] message".

Triton carries only a status and a message, so a model puts the platform's stable
error code in front of the message and the gateway maps it back to the same typed
error (a client fault stays a 4xx). Every model family's python models use this.
"""
from __future__ import annotations

import re

from services.common.errors import ErrorCode, PerceptError

ERROR_PREFIX_FORMAT = "[{code}] {message}"
_PREFIXED = re.compile(r"\[([a-z_]+)\]\s*(.*)", re.S)


def triton_error_message(error: PerceptError) -> str:
    return ERROR_PREFIX_FORMAT.format(code=error.code.value, message=error.message)


def error_from_triton_message(message: str) -> PerceptError | None:
    """The typed error a model put into a Triton error message; None for any other message."""
    match = _PREFIXED.search(message)
    if match is None:
        return None
    try:
        return PerceptError(ErrorCode(match.group(1)), match.group(2).strip())
    except ValueError:  # a bracketed word that is no platform code
        return None
