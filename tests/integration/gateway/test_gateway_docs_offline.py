"""/docs and /redoc load every asset from the gateway itself (air-gapped clusters have no CDN)."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page,bundle", [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_docs_pages_reference_only_the_gateway(client, page, bundle):
    response = client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    urls = _urls(response.text)
    assert any(url.endswith(bundle) for url in urls), urls
    assert "fonts.googleapis" not in response.text
    for url in urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"{page} references an external host: {url}"
        asset = client.get(urljoin(page, url))
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url  # the real bundle, not an empty stub
    # the page's spec is the gateway's own document
    assert "/openapi.json" in response.text and client.get("/openapi.json").status_code == 200


def test_swagger_ui_has_no_external_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").text  # disabled: it would load a badge from a public host
