"""Every bad input gets a typed 4xx with a stable code, and the gateway stays healthy."""
from __future__ import annotations

import base64

import httpx
import pytest

from tests.integration.gateway.support import png, png_header_only, truncated_png

LOCATE = "/v1/text/locate"


def _multipart(image: bytes, query: str = "text", **fields):
    return {"files": {"image": ("x.png", image, "image/png")}, "data": {"query": query, **fields}}


def _json(image: bytes, query: str = "text", **fields):
    return {"json": {"image": base64.b64encode(image).decode(), "query": query, **fields}}


CASES = {
    "non-image bytes": (_multipart(b"this is not an image at all"), 422, "invalid_image"),
    "truncated image": (_multipart(truncated_png()), 422, "truncated_image"),
    "zero-byte image": (_multipart(b""), 422, "empty_image"),
    "zero-size image": (_multipart(png_header_only(0, 10)), 422, "empty_image"),
    "decompression bomb (pixels over the cap)": (_multipart(png_header_only(20000, 20000)), 413,
                                                 "image_too_large"),
    "empty query": (_multipart(png(32, 32), query=""), 422, "invalid_query"),
    "blank query": (_json(png(32, 32), query="   "), 422, "invalid_query"),
    "overlong query": (_json(png(32, 32), query="x" * 10_000), 422, "query_too_long"),
    "control characters in query": (_json(png(32, 32), query="a\x00b"), 422, "invalid_query"),
    "unsupported content type": ({"content": b"hello", "headers": {"content-type": "text/plain"}}, 415,
                                 "unsupported_media_type"),
    "no content type": ({"content": b"hello"}, 415, "unsupported_media_type"),
    "malformed multipart": ({"content": b"--xyz\r\nContent-Disposition: form-data\r\n\r\ngarbage",
                             "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 400,
                            "malformed_body"),
    "multipart without boundary": ({"content": b"whatever",
                                    "headers": {"content-type": "multipart/form-data"}}, 400, "malformed_body"),
    "multipart without image field": ({"data": {"query": "x"}, "files": {"other": ("a", b"b")}}, 400,
                                      "invalid_request"),
    "malformed JSON": ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
                       "malformed_body"),
    "JSON that is not an object": ({"json": [1, 2, 3]}, 400, "malformed_body"),
    "bad base64": ({"json": {"image": "%%%not-base64%%%", "query": "x"}}, 422, "invalid_image"),
    "missing query": ({"json": {"image": base64.b64encode(png(8, 8)).decode()}}, 400, "invalid_request"),
    "unknown field": (_json(png(8, 8), colour="blue"), 400, "invalid_request"),
    "max_tiles out of range": (_json(png(8, 8), max_tiles=0), 400, "invalid_request"),
    "max_tiles above the limit": (_json(png(8, 8), max_tiles=500), 400, "invalid_request"),
    "bad heatmap format": (_json(png(8, 8), heatmap_format="gif"), 400, "invalid_request"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_gets_typed_4xx(client, case):
    request, status, code = CASES[case]
    response = client.post(LOCATE, **request)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    assert client.get("/healthz").status_code == 200


def test_body_over_the_cap_is_refused_by_content_length(client):
    response = client.post(LOCATE, **_multipart(b"\0" * (21 * 1024 * 1024)))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert client.get("/healthz").status_code == 200


def test_chunked_body_over_the_cap_is_refused_while_reading(client):
    def chunks():
        block = b"\0" * (1024 * 1024)
        for _ in range(25):
            yield block

    response = client.post(LOCATE, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert client.get("/healthz").status_code == 200


def test_unknown_route_and_wrong_method_are_typed(client):
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.get(LOCATE)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_gateway_survives_a_burst_of_bad_input(gateway_url):
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        for _ in range(3):
            for request, status, _code in CASES.values():
                assert http.post(LOCATE, **request).status_code == status
        good = http.post(LOCATE, **_json(png(64, 64), heatmap_format="none"))
        assert good.status_code == 200
