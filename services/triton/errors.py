"""How a typed error crosses Triton: inside the error message, as "[code] message".

Triton carries only a status and a message, so a model puts the platform's stable
error code in front of the message and the gateway maps it back to the same typed
error (a client fault stays a 4xx). Every model family's python models use this.
"""
from __future__ import annotations

from services.common.errors import PerceptError

ERROR_PREFIX_FORMAT = "[{code}] {message}"


def triton_error_message(error: PerceptError) -> str:
    return ERROR_PREFIX_FORMAT.format(code=error.code.value, message=error.message)
