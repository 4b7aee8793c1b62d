"""The OpenAPI document is fully resolvable, and RFC 9110's required headers are sent."""
from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gateway.app import create_app
from gateway.schemas import LocateFormFields, LocateJsonRequest, decimal_up_to, heatmap_tokens_text
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
    # heatmap_tokens: indices below PERCEPT_MAX_QUERY_TOKENS; heatmap_max_side up to PERCEPT_HEATMAP_MAX_SIDE
    (indices, _null) = json_body["heatmap_tokens"]["anyOf"]
    assert indices["items"] == {"type": "integer", "minimum": 0, "maximum": settings.max_query_tokens - 1}
    assert indices["maxItems"] == 16
    assert {"minimum": 16, "maximum": settings.heatmap_max_side}.items() \
        <= json_body["heatmap_max_side"]["anyOf"][0].items()
    assert {"minimum": 0, "maximum": 100}.items() <= json_body["max_matches"].items()
    form = document["components"]["schemas"]["LocateMultipartRequest"]["properties"]
    assert form["heatmap_tokens"]["pattern"] == heatmap_tokens_text(settings.max_query_tokens - 1)
    assert form["heatmap_max_side"]["maximum"] == settings.heatmap_max_side


@pytest.mark.parametrize("maximum", [0, 1, 9, 10, 63, 64, 99, 100, 1000, 4095])
def test_decimal_up_to_matches_exactly_the_numbers_up_to_its_maximum(maximum):
    pattern = re.compile(decimal_up_to(maximum))
    for number in range(5000):
        assert bool(pattern.fullmatch(str(number))) == (number <= maximum), number
    assert not pattern.fullmatch(f"0{maximum}") and not pattern.fullmatch("")


def test_the_form_s_token_list_is_read_as_the_document_states_it():
    """The server's reading of the form field (any index; inputs.py checks the bound) takes what the
    document's pattern takes once the bound is applied, and nothing else."""
    documented = re.compile(heatmap_tokens_text(63))
    for text in ("0", "0,2", "63", ",".join(["63"] * 16), "01", "0,", ",0", "0,,2", "1, 2", " 1", "64", "-1",
                 ",".join(["1"] * 17), "1e2", "", "０"):
        try:
            indices = LocateFormFields.model_validate({"query": "q", "heatmap_tokens": text}).heatmap_tokens
        except ValidationError:
            indices = None
        served = indices is not None and max(indices) <= 63
        assert served == bool(documented.fullmatch(text)), text


def test_integral_numbers_in_a_json_list_of_integers_are_integers():
    """JSON Schema counts 2.0 as an integer, in a list as anywhere (a schema-valid body)."""
    body = b'{"image": "", "query": "q", "heatmap_tokens": [0, 2.0, 1e1], "max_boxes": 3.0}'
    parsed = LocateJsonRequest.model_validate_json(body, strict=True)
    assert parsed.heatmap_tokens == [0, 2, 10] and all(type(index) is int for index in parsed.heatmap_tokens)
    assert parsed.max_boxes == 3
    with pytest.raises(ValidationError):
        LocateJsonRequest.model_validate_json(b'{"image": "", "query": "q", "heatmap_tokens": [0.5]}', strict=True)
    with pytest.raises(ValidationError):
        LocateJsonRequest.model_validate_json(b'{"image": "", "query": "q", "heatmap_tokens": ["1"]}', strict=True)


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
