"""Every event's JSON schema is snapshotted; a non-additive change fails this test.

Additive: a new event type or version, a new optional field. Breaking: a removed type or
field, a changed field type, a new required field, a required field made optional.
To record an intended additive change: ``UPDATE_EVENT_SNAPSHOT=1 make test``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from shared.events import EVENT_TYPES

SNAPSHOT = Path(__file__).with_name("event_schemas.json")


def current() -> dict[str, Any]:
    return {f"{t}@v{v}": cls.model_json_schema() for (t, v), cls in sorted(EVENT_TYPES.items())}


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems = []
    for key, old_schema in old.items():
        if key not in new:
            problems.append(f"{key}: removed")
            continue
        new_schema = new[key]
        old_props, new_props = old_schema.get("properties", {}), new_schema.get("properties", {})
        old_req, new_req = set(old_schema.get("required", [])), set(new_schema.get("required", []))
        for name, prop in old_props.items():
            if name not in new_props:
                problems.append(f"{key}.{name}: removed")
            elif _type(prop) != _type(new_props[name]):
                problems.append(f"{key}.{name}: type {_type(prop)} -> {_type(new_props[name])}")
        for name in new_req - old_req:
            problems.append(f"{key}.{name}: newly required")
        for name in old_req - new_req:
            if name in new_props:
                problems.append(f"{key}.{name}: no longer required")
    return problems


def _type(prop: dict[str, Any]) -> Any:
    if "anyOf" in prop:
        return sorted(json.dumps(_type(p), sort_keys=True) for p in prop["anyOf"])
    return {
        k: prop[k] for k in ("type", "format", "items", "additionalProperties", "$ref") if k in prop
    }


def test_event_schemas_change_only_additively() -> None:
    now = current()
    if os.environ.get("UPDATE_EVENT_SNAPSHOT") == "1" or not SNAPSHOT.exists():
        if SNAPSHOT.exists():
            assert breaking_changes(json.loads(SNAPSHOT.read_text()), now) == []
        SNAPSHOT.write_text(json.dumps(now, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    old = json.loads(SNAPSHOT.read_text())
    assert breaking_changes(old, now) == []
    missing = sorted(set(now) - set(old))
    assert not missing, (
        f"new event schemas not yet snapshotted: {missing} (UPDATE_EVENT_SNAPSHOT=1)"
    )


def test_the_checker_catches_breaking_changes() -> None:
    old = {
        "x@v1": {
            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
            "required": ["a"],
        }
    }
    assert breaking_changes(old, old) == []
    additive = {
        "x@v1": {
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "integer"},
                "c": {"type": "string"},
            },
            "required": ["a"],
        }
    }
    assert breaking_changes(old, additive) == []
    assert breaking_changes(old, {}) == ["x@v1: removed"]
    assert breaking_changes(
        old, {"x@v1": {"properties": {"a": {"type": "string"}}, "required": ["a"]}}
    ) == ["x@v1.b: removed"]
    assert breaking_changes(
        old,
        {
            "x@v1": {
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a"],
            }
        },
    )[0].startswith("x@v1.a: type")
    assert breaking_changes(old, {"x@v1": {**additive["x@v1"], "required": ["a", "c"]}}) == [
        "x@v1.c: newly required"
    ]
