"""Every number the JSON API accepts is bounded to what the database stores, and JSON bodies are strictly typed
(issue 12; backend/kit/numbers.py). Checked over the app's own route table, so a new route or field is held to it:

- every integer in a query string, header or request body declares bounds within an INTEGER column (or, for the
  fields named below, a BIGINT column); integers in paths are answered 404 beyond INTEGER by
  backend/kit/path_ids.py (tests/security/test_out_of_range_ids.py);
- every integer and boolean in a JSON body is strict: `"0"`, `false` and `"yes"` are not numbers or booleans;
- and, end to end through the heartbeat lane, such beats are refused with 422 and huge clocks never reach the
  database.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Strict

from backend.app import create_app
from backend.config import Settings
from backend.kit.numbers import BIGINT_MAX, INT_MAX, INT_MIN
from backend.kit.path_ids import ids_in_range
from tests.learning.test_hotpath import world  # noqa: F401 - the fixture

# Integers stored in BIGINT columns: the browser's clock (heartbeats.client_ms) and an upload's declared size.
BIGINT_FIELDS = {
    ("POST", "/api/v1/playbacks/{playback_id}/heartbeats", "client_ms"),
    ("POST", "/api/v1/uploads", "size"),
}


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return create_app(Settings(database_url="sqlite:///:memory:", demo_mode=True))


def _integers(schema: dict[str, Any], where: str, components: dict[str, Any], seen: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """(where, schema) of every integer in a JSON schema, following $refs."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _integers(components[name], where, components, (*seen, name))
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _integers(sub, where, components, seen)
    if schema.get("type") == "integer":
        yield where, schema
    if isinstance(schema.get("items"), dict):
        yield from _integers(schema["items"], where, components, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _integers(sub, f"{where}.{name}" if where else name, components, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _integers(schema["additionalProperties"], f"{where}.*", components, seen)


def test_every_integer_the_api_accepts_is_bounded_to_what_the_database_stores(app) -> None:  # type: ignore[no-untyped-def]
    doc = app.openapi()
    components = doc.get("components", {}).get("schemas", {})
    unbounded, checked = [], 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            found = []
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    found += _integers(parameter.get("schema", {}), parameter["name"], components)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += _integers(content.get("schema", {}), "", components)
            for where, schema in found:
                checked += 1
                big = (method.upper(), path, where) in BIGINT_FIELDS
                bottom, top = (-BIGINT_MAX - 1, BIGINT_MAX) if big else (INT_MIN, INT_MAX)
                low = schema.get("minimum", schema.get("exclusiveMinimum"))
                high = schema.get("maximum", schema.get("exclusiveMaximum"))
                # JSON numbers: 2**63 - 1 is written as the float 2**63, so compare as floats.
                if low is None or high is None or float(low) < float(bottom) or float(high) > float(top):
                    unbounded.append(f"{method.upper()} {path} {where}: [{low}, {high}]")
    assert checked >= 10  # the walk found the API's numbers
    assert not unbounded, "\n".join(unbounded)
    assert any(d.dependency is ids_in_range for d in app.router.dependencies)  # paths: 404 beyond INTEGER


def _loose(annotation: Any, metadata: list[Any], where: str) -> list[str]:
    """Fields typed int or bool without Strict, in a body model and everything nested in it."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *more = get_args(annotation)
        return _loose(base, [*metadata, *more], where)
    if annotation in (int, bool):
        return [] if any(isinstance(m, Strict) and m.strict for m in metadata) else [where]
    if origin in (Union, types.UnionType):
        return [found for arg in get_args(annotation) for found in _loose(arg, metadata, where)]
    if origin in (list, set, frozenset, tuple):
        return [found for arg in get_args(annotation) if arg is not Ellipsis for found in _loose(arg, [], f"{where}[]")]
    if origin is dict:
        return _loose(get_args(annotation)[1], [], f"{where}.*")  # keys are text in JSON: parsed, bounded above
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [found for name, field in annotation.model_fields.items()
                for found in _loose(field.annotation, list(field.metadata), f"{where}.{name}")]
    return []


def test_every_integer_and_boolean_in_a_json_body_is_strict(app) -> None:  # type: ignore[no-untyped-def]
    loose, bodies = [], 0
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.body_params:
            bodies += 1
            info = param.field_info
            for where in _loose(info.annotation, list(info.metadata), param.name):
                loose.append(f"{sorted(route.methods)} {route.path} {where}")
    assert bodies >= 10
    assert not loose, "\n".join(loose)


LOOSE_OR_UNSTORABLE = [
    {"position_ms": "0"}, {"position_ms": False}, {"position_ms": 1.5}, {"seq": "1"}, {"playing": "yes"},
    {"visible": 1}, {"ended": "false"}, {"client_ms": 2**63}, {"client_ms": 10**30}, {"client_ms": -1},
]


def test_a_heartbeat_with_a_loose_or_unstorable_value_is_refused_with_422(world) -> None:  # noqa: F811
    pid = world.start()["playback_id"]
    body = {"seq": 1, "position_ms": 0, "playing": True, "visible": True, "ended": False, "client_ms": 17 * 10**11}
    for change in LOOSE_OR_UNSTORABLE:
        r = world.client.post(f"/api/v1/playbacks/{pid}/heartbeats", json={**body, **change})
        assert r.status_code == 422, (change, r.text)
        assert r.json()["error"] == "invalid_input" and next(iter(change)) in r.json()["detail"]
    assert world.client.post(f"/api/v1/playbacks/{pid}/heartbeats", json=body).status_code == 200  # none was kept
