"""The OpenAPI document, generated from the pydantic models, with every `$ref` resolvable.

Routes whose handler reads the body itself (the locate route takes multipart *or* JSON)
describe it with `request_body(...)`. Pydantic would put a model's nested types under a
local `$defs` that the document does not have; here the body models are generated with
references into `#/components/schemas` and added there, with everything they refer to,
when the document is built.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"

# Body models that request_body() referred to, by component name: (model, is_form).
_BODY_MODELS: dict[str, tuple[type[BaseModel], bool]] = {}


def request_body(json: type[BaseModel] | None = None, form: type[BaseModel] | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route whose handler reads a JSON and/or a multipart-form body."""
    content = {}
    for media_type, model, is_form in (("multipart/form-data", form, True), ("application/json", json, False)):
        if model is not None:
            _BODY_MODELS[model.__name__] = (model, is_form)
            content[media_type] = {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}
    return {"requestBody": {"required": True, "content": content}}


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A form field cannot be null: `anyOf [T, null]` becomes T (leaving the field out gives the default)."""
    branches = schema.get("anyOf")
    kept = [b for b in branches or () if b.get("type") != "null"]
    if not branches or len(kept) != 1:
        return schema
    return {**{k: v for k, v in schema.items() if k not in ("anyOf", "default")}, **kept[0]}


def _merged(schema: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `limits`' keywords, those of a nested schema (`items`) merged into it."""
    merged = dict(schema)
    for key, value in limits.items():
        merged[key] = _merged(schema[key], value) if isinstance(value, dict) and key in schema else value
    return merged


def _with_limits(schema: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """Add keywords such as `maximum` (or `{"items": {"maximum": ...}}`) to a property (to its non-null branch
    when it is nullable)."""
    branches = schema.get("anyOf")
    if branches:
        return {**schema, "anyOf": [b if b.get("type") == "null" else _merged(b, limits) for b in branches]}
    return _merged(schema, limits)


def body_schemas(property_limits: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Component schemas of the body models and of every type they refer to."""
    components: dict[str, dict[str, Any]] = {}
    limits = property_limits or {}
    for name, (model, is_form) in _BODY_MODELS.items():
        schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        for nested, nested_schema in schema.pop("$defs", {}).items():  # a nested model's fields: by model.field
            if "properties" in nested_schema:
                nested_schema["properties"] = {key: _with_limits(prop, limits.get(f"{nested}.{key}", {}))
                                               for key, prop in nested_schema["properties"].items()}
            components[nested] = nested_schema
        properties = {key: _with_limits(prop, limits.get(f"{name}.{key}", limits.get(key, {})))
                      for key, prop in schema["properties"].items()}
        schema["properties"] = {key: _non_null(prop) for key, prop in properties.items()} if is_form \
            else properties
        components[name] = schema
    return components


def install(app: FastAPI, property_limits: dict[str, dict[str, Any]] | None = None) -> None:
    """Serve the generated document with the body models' components added.

    `property_limits` adds the limits this process was started with to the body fields of
    that name (e.g. {"max_tiles": {"maximum": 12}}), or of that model and name
    ({"VqaJsonRequest.max_tokens": ...}: a name other bodies use with another cap; a nested
    model's field only so: {"ImageURL.url": ...}), so the document promises what is enforced."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in body_schemas(property_limits).items():
                schemas.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
