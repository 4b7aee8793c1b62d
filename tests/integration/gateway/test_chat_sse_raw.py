"""The chat completions stream read RAW, line by line with httpx, as curl scripts and raw SSE
readers (LangChain's, for one) read it: `data:` events separated by blank lines, ending with
`data: [DONE]`, with and without `stream_options.include_usage`. The `openai` client accepts a
stream that just ends, so its tests cannot see a missing `[DONE]`; these can.

The STEM stream's terminal event (`result`) is checked the same raw way in test_gateway_stem.py.
"""
from __future__ import annotations

import json

import httpx
import pytest

from services.triton import generation as contract

DONE = "data: [DONE]"


def _raw_lines(gateway_url: str, **body) -> list[str]:
    request = {"model": contract.TOKENVL_MODEL, "max_tokens": 4, "temperature": 0, "stream": True,
               "messages": [{"role": "user", "content": "Hello"}], **body}
    with httpx.Client(base_url=gateway_url, timeout=120) as http, \
            http.stream("POST", "/v1/chat/completions", json=request) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(response.iter_lines())


def _events(lines: list[str]) -> list[str]:
    """The `data:` payloads, checking the framing: every event is one `data:` line and a blank line."""
    assert len(lines) % 2 == 0 and lines, lines
    for data, blank in zip(lines[::2], lines[1::2], strict=True):
        assert data.startswith("data: ") and blank == "", (data, blank)
    return [line.removeprefix("data: ") for line in lines[::2]]


@pytest.mark.parametrize("include_usage", [False, True])
def test_the_raw_stream_ends_with_done(gateway_url, include_usage):
    lines = _raw_lines(gateway_url, stream_options={"include_usage": include_usage})
    assert lines[-2:] == [DONE, ""], lines[-4:]  # the last event, and nothing after it
    events = _events(lines)
    assert events.count("[DONE]") == 1
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks and all(c["object"] == "chat.completion.chunk" for c in chunks)
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finishes) == 1 and finishes[0] in ("stop", "length")
    if include_usage:  # the usage chunk comes last, just before [DONE]
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] >= 1
    else:
        assert chunks[-1]["choices"][0]["finish_reason"] == finishes[0]
        assert all(c.get("usage") is None for c in chunks)


def test_the_raw_stream_without_stream_options_ends_with_done(gateway_url):
    assert _raw_lines(gateway_url)[-2:] == [DONE, ""]
