"""What the OpenAPI document's patterns take is exactly what the gateway reads (issue 19: the document is
exact): base64 bodies, chat's data: URI images with no image-URL allow-list."""
from __future__ import annotations

import base64
import itertools
import re

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.chat_schemas import DATA_URI_PATTERN
from gateway.image_urls import decode_data_uri
from gateway.schemas import BASE64_TEXT, EXAMPLE_IMAGE_BASE64, decode_base64
from gateway.settings import GatewaySettings
from services.common.errors import PerceptError


def test_base64_is_read_exactly_as_the_pattern_states():
    pattern = re.compile(BASE64_TEXT)
    for length in range(10):
        for chars in itertools.product("A/+=*", repeat=length):
            text = "".join(chars)
            assert (decode_base64(text) is not None) == bool(pattern.fullmatch(text)), text
    # b64decode(validate=True) alone takes padding after whole quanta; the pattern does not
    for extra in ("AAAA=", "AAAA====", "AAAAAA==="):
        assert decode_base64(extra) is None
    assert decode_base64(EXAMPLE_IMAGE_BASE64) == base64.b64decode(EXAMPLE_IMAGE_BASE64)


def _read(url: str) -> bool:
    try:
        decode_data_uri(url, "messages.0.content.0.image_url")
    except PerceptError:
        return False
    return True


@pytest.mark.parametrize("url", [
    "data:image/png;base64,AAAA", "DATA:IMAGE/PNG;BASE64,AAAA", "data:;base64,AAAA", "data:image/png;base64,",
    "data:image/svg+xml;charset=utf-8;base64,AAA=", "data:image/png;base64,AAAA=", "data:image/png,AAAA",
    "data:text/plain;base64,AAAA", "data:image/p\u00f1g;base64,AAAA", "data:image;base64,AAAA",
    "data:image/png;base64,AA AA", "data:image/png;base64,AAAA\n", "data:image/png;x=y;base64,AA==",
    "data:image/png;x;base64,AAAA", "data:IMAGE.x/png;base64,AAAA", "data:image/png;base64=1,AAAA",
])
def test_a_data_uri_is_read_exactly_as_the_pattern_states(url):
    assert DATA_URI_PATTERN.startswith("^") and DATA_URI_PATTERN.endswith("$")
    assert _read(url) == bool(re.fullmatch(DATA_URI_PATTERN[1:-1], url)), url


def test_with_no_allow_list_the_document_says_an_image_url_is_a_data_uri():
    with TestClient(create_app(GatewaySettings.from_env(image_url_allowlist=()))) as http:
        url = http.get("/openapi.json").json()["components"]["schemas"]["ImageURL"]["properties"]["url"]
    assert url["pattern"] == DATA_URI_PATTERN
    with TestClient(create_app(GatewaySettings.from_env(image_url_allowlist=("https://img.example.com:443",)))) \
            as http:
        url = http.get("/openapi.json").json()["components"]["schemas"]["ImageURL"]["properties"]["url"]
    assert "pattern" not in url  # an allowed origin's URL is taken too
