"""The rules of request bodies, said in the OpenAPI document as the server enforces them.

Litestar's document generator drops the rules of a field that may be null (``X | None``) and puts a
list's ``min_length`` on the union, where it says nothing of arrays; rules across fields are not
in any field's schema. ``constrain`` gives each body schema pydantic's own rules for its properties
and the cross-field rules below (``problems.tighten`` calls it for every body model)."""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema
from pydantic import BaseModel

#: JSON Schema keywords of a value's rule, and the names Litestar's Schema gives them.
_CONSTRAINTS = {"pattern": "pattern", "maxLength": "max_length", "minLength": "min_length", "minItems": "min_items", "maxItems": "max_items"}
#: Rules a body states across fields, which no single field's schema can, as JSON Schema if/then
#: pairs (model -> [(if, then)]); each is enforced by the model's validator.
CROSS_FIELD_RULES: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
    "ListingAction": [
        ({"properties": {"action": {"enum": ["reject", "suspend"]}}, "required": ["action"]}, {"required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}}),
    ],
    "DecisionIn": [
        ({"properties": {"decision": {"enum": ["reject"]}}, "required": ["decision"]}, {"required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}}),
    ],
    "ApiKeyCreate": [
        # A browser key is bound to one origin at least and only reads; a secret key has no origins.
        (
            {"properties": {"kind": {"enum": ["browser"]}}, "required": ["kind"]},
            {"required": ["allowed_origins"], "properties": {"allowed_origins": {"minItems": 1}, "scopes": {"items": {"enum": ["read"]}}}},
        ),
        ({"not": {"properties": {"kind": {"enum": ["browser"]}}, "required": ["kind"]}}, {"properties": {"allowed_origins": {"maxItems": 0}}}),
    ],
}

#: No string the API stores may hold NUL (PostgreSQL text cannot): said on every string property.
NO_NUL = "^[^\\u0000]*$"


def _schema_of(rule: dict[str, Any]) -> Schema:
    """A JSON Schema fragment (as written above) as Litestar's Schema."""
    return Schema(
        type=OpenAPIType(rule["type"]) if "type" in rule else None,
        enum=rule.get("enum"),
        required=rule.get("required"),
        min_length=rule.get("minLength"),
        min_items=rule.get("minItems"),
        max_items=rule.get("maxItems"),
        items=_schema_of(rule["items"]) if "items" in rule else None,
        schema_not=_schema_of(rule["not"]) if "not" in rule else None,
        properties={name: _schema_of(value) for name, value in rule["properties"].items()} if "properties" in rule else None,
    )


def constrain(schema: Schema, model: type[BaseModel]) -> None:
    """Give each property of a body the rules pydantic enforces on it (pattern, lengths, item counts).

    Litestar's generator drops them from a field that may be null (``X | None``), and puts a list's
    ``min_length`` on the union as ``minLength`` (which says nothing of arrays); pydantic's own schema
    of the model has them in the right place."""
    truth = model.model_json_schema(mode="validation").get("properties", {})
    for name, declared in (schema.properties or {}).items():
        wanted = truth.get(name)
        if not isinstance(declared, Schema) or not isinstance(wanted, dict):
            continue
        branches = [b for b in wanted.get("anyOf", [wanted]) if b.get("type") != "null"]
        targets = [b for b in (declared.one_of or [declared]) if isinstance(b, Schema) and b.type != OpenAPIType.NULL]
        if len(branches) != 1 or len(targets) != 1:
            continue
        if declared.one_of:
            declared.max_length = declared.min_length = None  # misplaced on the union; set on the branch below
        _copy_rules(branches[0], targets[0])
        if "description" in wanted and not declared.description:
            declared.description = wanted["description"]
    rules = CROSS_FIELD_RULES.get(model.__name__, [])
    if rules:
        schema.all_of = [Schema(schema_if=_schema_of(condition), then=_schema_of(then)) for condition, then in rules]


def _copy_rules(rules: dict[str, Any], target: Schema) -> None:
    for keyword, attribute in _CONSTRAINTS.items():
        if keyword in rules:
            setattr(target, attribute, rules[keyword])
    if target.type == OpenAPIType.STRING and target.pattern is None and target.format is None and target.enum is None:
        target.pattern = NO_NUL
    items = rules.get("items")
    if isinstance(items, dict) and isinstance(target.items, Schema) and "$ref" not in items:
        _copy_rules(items, target.items)
