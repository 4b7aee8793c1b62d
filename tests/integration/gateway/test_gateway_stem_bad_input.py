"""Every bad STEM input gets a typed 4xx with a stable code, and the gateway and the
code-perception service stay healthy (real processes: gateway -> service -> sandbox)."""
from __future__ import annotations

import base64

import pytest
from grpc_health.v1 import health_pb2

from gateway.settings import GatewaySettings
from tests.integration.gateway.stem_support import health
from tests.integration.gateway.support import png, png_header_only, truncated_png

SETTINGS = GatewaySettings.from_env()
TOO_MUCH_CODE = "x = 1\n" * (SETTINGS.max_code_bytes // 6 + 1)
PROGRAM = "import matplotlib.pyplot as plt\nplt.plot([0, 1])\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _image_json(image: bytes, **fields):
    return {"json": {"image": _b64(image), **fields}}


def _image_form(image: bytes, **fields):
    return {"files": {"image": ("x.png", image, "image/png")}, "data": {k: str(v) for k, v in fields.items()}}


def _score_json(image: bytes = png(32, 32), candidate_code: str = PROGRAM, **fields):
    return {"json": {"reference_image": _b64(image), "candidate_code": candidate_code, **fields}}


MALFORMED_JSON = {"content": b"{not json", "headers": {"content-type": "application/json"}}

CASES = {
    "/v1/stem/image-to-code": {
        "non-image bytes": (_image_form(b"this is not an image"), 422, "invalid_image"),
        "truncated image (the service decodes it)": (_image_json(truncated_png()), 422, "truncated_image"),
        "zero-byte image": (_image_form(b""), 422, "empty_image"),
        "decompression bomb": (_image_json(png_header_only(20000, 20000)), 413, "image_too_large"),
        "candidates above the cap": (_image_json(png(32, 32), candidates=SETTINGS.max_candidates + 1), 400,
                                     "invalid_request"),
        "candidates zero": (_image_json(png(32, 32), candidates=0), 400, "invalid_request"),
        "unknown backend option": (_image_json(png(32, 32), backend_options={"nope": "1"}), 400, "invalid_request"),
        "backend option of the wrong type": (_image_json(png(32, 32), backend_options={"top_k": "1"}), 400,
                                             "invalid_request"),
        "backend options not an object (form)": (_image_form(png(32, 32), backend_options="[1]"), 400,
                                                 "invalid_request"),
        "malformed JSON": (MALFORMED_JSON, 400, "malformed_body"),
        "bad base64": ({"json": {"image": "%%%not-base64%%%"}}, 422, "invalid_image"),
        "candidates as a string in JSON": (_image_json(png(32, 32), candidates="2"), 400, "invalid_request"),
        "unknown field": (_image_json(png(32, 32), colour="blue"), 400, "invalid_request"),
        "no image": ({"json": {"candidates": 1}}, 400, "invalid_request"),
        "unsupported content type": ({"content": b"x", "headers": {"content-type": "text/plain"}}, 415,
                                     "unsupported_media_type"),
        "body above the cap": ({"content": b"{" + b" " * (SETTINGS.max_body_bytes + 1),
                                "headers": {"content-type": "application/json"}}, 413, "payload_too_large"),
    },
    "/v1/stem/render": {
        "empty code": ({"json": {"code": ""}}, 400, "invalid_request"),
        "blank code": ({"json": {"code": "  \n\t"}}, 400, "invalid_request"),
        "code above the cap": ({"json": {"code": TOO_MUCH_CODE}}, 413, "payload_too_large"),
        "code above the cap (form file)": ({"files": {"code": ("p.py", TOO_MUCH_CODE.encode())}}, 413,
                                           "payload_too_large"),
        "code that is not UTF-8 (form file)": ({"files": {"code": ("p.py", b"\xff\xfe")}}, 400, "invalid_request"),
        "lone surrogate in code": ({"content": b'{"code": "x = \\"\\ud800\\""}',
                                    "headers": {"content-type": "application/json"}}, 400, "invalid_request"),
        "dpi above the sandbox's maximum": ({"json": {"code": PROGRAM, "dpi": 100_000}}, 400, "invalid_request"),
        "negative timeout": ({"json": {"code": PROGRAM, "timeout_s": -1}}, 400, "invalid_request"),
        "malformed JSON": (MALFORMED_JSON, 400, "malformed_body"),
        "JSON that is not an object": ({"json": ["code"]}, 400, "malformed_body"),
        "malformed multipart": ({"content": b"--xyz\r\ngarbage", "headers": {
            "content-type": "multipart/form-data; boundary=xyz"}}, 400, "malformed_body"),
    },
    "/v1/stem/score": {
        "non-image reference": (_score_json(b"not an image"), 422, "invalid_image"),
        "decompression bomb": (_score_json(png_header_only(20000, 20000)), 413, "image_too_large"),
        "empty candidate code": (_score_json(candidate_code=""), 400, "invalid_request"),
        "candidate code above the cap": (_score_json(candidate_code=TOO_MUCH_CODE), 413, "payload_too_large"),
        "reference code above the cap": (_score_json(reference_code=TOO_MUCH_CODE), 413, "payload_too_large"),
        "bad base64": ({"json": {"reference_image": "@@@", "candidate_code": PROGRAM}}, 422, "invalid_image"),
        "malformed JSON": (MALFORMED_JSON, 400, "malformed_body"),
        "no reference image": ({"json": {"candidate_code": PROGRAM}}, 400, "invalid_request"),
    },
}

PARAMS = [pytest.param(route, request, status, code, id=f"{route.rsplit('/', 1)[1]}: {name}")
          for route, cases in CASES.items() for name, (request, status, code) in cases.items()]


@pytest.mark.parametrize("route,request_kwargs,status,code", PARAMS)
def test_bad_input_gets_a_typed_4xx(stem, stem_client, route, request_kwargs, status, code):
    response = stem_client.post(route, **request_kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["request_id"]
    assert "Traceback" not in response.text


def test_everything_stays_healthy_after_the_bad_inputs(stem, stem_client):
    for route, cases in CASES.items():
        for request_kwargs, _, _ in cases.values():
            assert stem_client.post(route, **request_kwargs).status_code < 500
    assert stem_client.get("/healthz").status_code == 200
    assert health(stem.codeperception_url) == health_pb2.HealthCheckResponse.SERVING
    good = stem_client.post("/v1/stem/render", json={"code": PROGRAM})
    assert good.status_code == 200 and good.json()["status"] == "ok"
