"""The OpenAPI document is fully resolvable, and RFC 9110's required headers are sent."""
from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.schemas import LocateJsonRequest
from gateway.settings import GatewaySettings
from services.common.images import decode_image


@pytest.fixture(scope="module")
def http():
    with TestClient(create_app(GatewaySettings.from_env())) as client:
        yield client


def _refs(node, path="#"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield path, value
            else:
                yield from _refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _refs(item, f"{path}/{index}")


def _resolve(document, pointer: str):
    assert pointer.startswith("#/"), f"only local references are expected: {pointer}"
    node = document
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{pointer} does not resolve (at {part!r})"
        node = node[part]
    return node


def test_every_ref_resolves(http):
    document = http.get("/openapi.json").json()
    refs = list(_refs(document))
    assert refs, "expected references into components"
    for where, pointer in refs:
        assert "$defs" not in pointer, f"{where}: {pointer}"
        _resolve(document, pointer)


def test_locate_documents_both_bodies_with_components(http):
    document = http.get("/openapi.json").json()
    content = document["paths"]["/v1/text/locate"]["post"]["requestBody"]["content"]
    for media_type in ("multipart/form-data", "application/json"):
        schema = _resolve(document, content[media_type]["schema"]["$ref"])
        heatmap = schema["properties"]["heatmap_format"]["$ref"]
        assert _resolve(document, heatmap)["enum"] == ["png", "raw", "none"]
    form = _resolve(document, content["multipart/form-data"]["schema"]["$ref"])
    assert form["properties"]["image"]["format"] == "binary"
    assert "anyOf" not in form["properties"]["max_tiles"]  # a form field is never null


def test_document_states_the_enforced_limits(http):
    document = http.get("/openapi.json").json()
    settings = GatewaySettings.from_env()
    json_body = document["components"]["schemas"]["LocateJsonRequest"]["properties"]
    assert {"minimum": 1, "maximum": settings.max_tiles, "type": "integer"}.items() \
        <= json_body["max_tiles"]["anyOf"][0].items()
    assert json_body["query"]["maxLength"] == settings.max_query_chars


def test_405_carries_allow(http):
    response = http.get("/v1/text/locate")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"
    wrong = http.post("/readyz")
    assert wrong.status_code == 405 and set(wrong.headers["allow"].replace(" ", "").split(",")) >= {"GET"}


def test_the_documented_example_is_a_real_request(http):
    """The example body (Swagger UI pre-fills it; the fuzzer sends it) must reach the model."""
    document = http.get("/openapi.json").json()
    (example,) = document["components"]["schemas"]["LocateJsonRequest"]["examples"]
    decode_image(base64.b64decode(example["image"]))
    LocateJsonRequest.model_validate(example)
