"""The OpenAI-style event framing of gateway/sse.py: `data:` lines only, the `[DONE]` sentinel."""
from __future__ import annotations

import json

from gateway import sse
from gateway.chat_schemas import ChatCompletionChunk, ChunkChoice, Delta


def test_a_chunk_is_one_data_line_of_json():
    chunk = ChatCompletionChunk(id="c", created=1, model="m", choices=[ChunkChoice(delta=Delta(content="é\n"))])
    event = sse.data_event(chunk)
    assert event.startswith(b"data: ") and event.endswith(b"\n\n") and event.count(b"\n") == 2
    assert json.loads(event[6:])["choices"][0]["delta"]["content"] == "é\n"
    assert json.loads(event[6:])["object"] == "chat.completion.chunk"
    assert sse.DONE == b"data: [DONE]\n\n"
