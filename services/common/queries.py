"""Validation of text queries, shared by the gateway and the Triton models."""
from __future__ import annotations

from . import limits
from .errors import ErrorCode, PerceptError


def validate_query(query: str, *, max_chars: int | None = None) -> str:
    """Return the query unchanged, or raise a client-fault PerceptError.

    `max_chars` defaults to PERCEPT_MAX_QUERY_CHARS; a server passes the value it parsed at start-up."""
    if not query or not query.strip():
        raise PerceptError(ErrorCode.INVALID_QUERY, "the query is empty")
    max_chars = limits.MAX_QUERY_CHARS.get() if max_chars is None else max_chars
    if len(query) > max_chars:
        raise PerceptError(ErrorCode.QUERY_TOO_LONG,
                           f"the query has {len(query)} characters; the limit is {max_chars}")
    if any(ord(ch) < 32 and ch != "\t" for ch in query):
        raise PerceptError(ErrorCode.INVALID_QUERY, "the query contains control characters")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from JSON's "\ud800"
        raise PerceptError(ErrorCode.INVALID_QUERY, "the query is not valid Unicode text") from None
    return query
