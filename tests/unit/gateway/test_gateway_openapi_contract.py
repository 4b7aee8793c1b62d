"""The OpenAPI document says exactly what the server accepts (the fuzzer in
tests/integration/gateway/test_gateway_fuzz.py checks it against a running gateway; these pin
the shape): security only when keys are configured, the chat roles and part types as tagged
alternatives, VQA's `images` or `pdf`, and `backend_options` as the backends' own keys."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.vqa_schemas import ONE_DOCUMENT
from services.codeperception.backends.base import BACKEND_OPTIONS

V1 = ("/v1/models", "/v1/text/locate", "/v1/stem/image-to-code", "/v1/stem/render", "/v1/stem/score",
      "/v1/documents/vqa", "/v1/chat/completions")
OPEN = ("/healthz", "/readyz", "/metrics")


def _document(**settings) -> dict:
    with TestClient(create_app(GatewaySettings.from_env(**settings))) as http:
        return http.get("/openapi.json").json()


def _operation(document: dict, path: str) -> dict:
    (operation,) = document["paths"][path].values()
    return operation


@pytest.fixture(scope="module")
def document() -> dict:
    return _document()


def test_without_keys_nothing_asks_for_one(document):
    assert "securitySchemes" not in document.get("components", {})
    for path in V1 + OPEN:
        operation = _operation(document, path)
        assert "security" not in operation and "401" not in operation["responses"], path


def test_with_keys_every_v1_operation_asks_for_one_and_documents_401():
    document = _document(api_keys=("k",))
    assert set(document["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    for path in V1:
        operation = _operation(document, path)
        assert operation["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}], path
        assert "401" in operation["responses"], path
    chat_401 = _operation(document, "/v1/chat/completions")["responses"]["401"]["content"]["application/json"]
    assert chat_401["schema"]["$ref"].endswith("/OpenAIErrorResponse")  # the route's own error shape
    for path in OPEN:  # probes and scrapers carry no key
        assert "security" not in _operation(document, path), path


def test_chat_messages_are_told_apart_by_role_and_parts_by_type(document):
    schemas = document["components"]["schemas"]
    items = schemas["ChatCompletionRequest"]["properties"]["messages"]["items"]
    roles = {role for ref in items["oneOf"] for role in _consts(schemas, ref["$ref"], "role")}
    assert roles == {"system", "developer", "user", "assistant"}
    assert items["discriminator"]["propertyName"] == "role"
    user_content = schemas["UserMessage"]["properties"]["content"]["anyOf"]
    user_parts = next(branch["items"] for branch in user_content if branch.get("type") == "array")
    assert set(user_parts["discriminator"]["mapping"]) == {"text", "image_url"}
    for other in ("InstructionMessage", "AssistantTurn"):  # images go only in user messages
        content = schemas[other]["properties"]["content"]["anyOf"]
        parts = next(branch["items"] for branch in content if branch.get("type") == "array")
        assert parts == {"$ref": "#/components/schemas/TextPart"}
    assert {"pattern": "<image>"} == schemas["TextPart"]["properties"]["text"]["not"]


def _consts(schemas: dict, ref: str, field: str) -> set[str]:
    prop = schemas[ref.rsplit("/", 1)[1]]["properties"][field]
    return {prop["const"]} if "const" in prop else set(prop["enum"])


@pytest.mark.parametrize("name", ["VqaJsonRequest", "VqaMultipartRequest"])
def test_vqa_takes_images_or_a_pdf_never_both(document, name):
    schema = document["components"]["schemas"][name]
    assert schema["oneOf"] == ONE_DOCUMENT
    validator = Draft202012Validator({"oneOf": schema["oneOf"]})  # the alternatives alone
    for body, valid in (({"images": 1}, True), ({"pdf": 1}, True), ({"pdf": 1, "pages": 1}, True), ({}, False),
                        ({"images": 1, "pdf": 1}, False), ({"images": 1, "pages": 1}, False),
                        ({"images": 1, "pdf": 1, "pages": 1}, False)):
        assert validator.is_valid(body) == valid, body
    for field in ("images", "pdf", "pages"):  # absent or set; never null
        assert "anyOf" not in schema["properties"][field] and "default" not in schema["properties"][field]
    assert schema["properties"]["images"]["minItems"] == 1


def test_backend_options_list_every_backends_keys_and_nothing_else(document):
    schemas = document["components"]["schemas"]
    json_type = {int: "integer", float: "number", str: "string"}
    options = schemas["BackendOptions"]
    assert options["additionalProperties"] is False
    expected = {key: json_type[kind] for table in BACKEND_OPTIONS.values() for key, kind in table.items()}
    assert {key: prop["type"] for key, prop in options["properties"].items()} == expected
    for name in ("ImageToCodeJsonRequest", "ImageToCodeMultipartRequest"):
        assert schemas[name]["properties"]["backend_options"]["$ref"].endswith("/BackendOptions")


def test_the_decoding_s_ranges_are_the_decoder_s(document):
    from services.models.tokenfd.query_matches import NUMBER_RANGES, Decoding

    properties = document["components"]["schemas"]["LocateDecoding"]["properties"]
    for name, (low, high) in NUMBER_RANGES.items():
        schema = properties[name]
        assert schema["minimum"] == low and schema.get("maximum", schema.get("exclusiveMaximum")) == high, name
        with pytest.raises(ValueError):
            Decoding(**{name: high + 0.01})
        with pytest.raises(ValueError):
            Decoding(**{name: low - 0.01})
