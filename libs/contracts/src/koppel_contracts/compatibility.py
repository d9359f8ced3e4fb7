"""JSON Schema snapshots of every event and the backward-compatibility rule.

A committed snapshot is what consumers in the field can already read and what
producers in the field already write. A model change is compatible when data
written against the snapshot still validates against the new model:

- no property disappears (old events carry it; dashboards and replays read it);
- no property changes its type, pattern or constant;
- no new required property (old events do not carry it);
- enum values may be added, never removed (a constant may become an enum that keeps it);
- a property may become nullable or otherwise wider (`anyOf` that keeps the old type).

Anything else is a new topic version (`.v2`), never an edit in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .topics import ALL_TOPICS

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "schemas"
_ANNOTATIONS = {"title", "description", "default", "examples"}


def current_schemas() -> dict[str, dict[str, Any]]:
    return {topic.name: topic.event.model_json_schema() for topic in ALL_TOPICS}


def snapshot_path(topic_name: str, directory: Path = SNAPSHOT_DIR) -> Path:
    return directory / f"{topic_name}.schema.json"


def load_snapshot(topic_name: str, directory: Path = SNAPSHOT_DIR) -> dict[str, Any]:
    return json.loads(snapshot_path(topic_name, directory).read_text())


def write_snapshots(directory: Path = SNAPSHOT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in current_schemas().items():
        path = snapshot_path(name, directory)
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in _ANNOTATIONS}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def _objects(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The root object and every named definition, by name."""
    found = {"<root>": schema}
    found.update(schema.get("$defs", {}))
    return found


def _compare_types(where: str, old: Any, new: Any, problems: list[str]) -> None:
    old, new = _strip(old), _strip(new)
    if old == new:
        return
    if isinstance(new, dict) and "anyOf" in new and old in new["anyOf"]:
        return  # widened: whatever the old type allowed is still allowed
    if isinstance(old, dict) and isinstance(new, dict) and "const" in old and "enum" in new:
        rest_old = {k: v for k, v in old.items() if k != "const"}
        rest_new = {k: v for k, v in new.items() if k != "enum"}
        if old["const"] in new["enum"] and rest_old == rest_new:
            return  # a constant became one of several values
    if isinstance(old, dict) and isinstance(new, dict) and "enum" in old and "enum" in new:
        removed = [v for v in old["enum"] if v not in new["enum"]]
        if removed:
            problems.append(f"{where}: enum values removed: {removed}")
        rest_old = {k: v for k, v in old.items() if k != "enum"}
        rest_new = {k: v for k, v in new.items() if k != "enum"}
        if rest_old != rest_new:
            problems.append(f"{where}: type changed")
        return
    problems.append(f"{where}: type changed from {json.dumps(old)} to {json.dumps(new)}")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every way `new` fails to read what `old` described; empty when compatible."""
    problems: list[str] = []
    old_objects, new_objects = _objects(old), _objects(new)
    for name, old_obj in old_objects.items():
        new_obj = new_objects.get(name)
        if new_obj is None:
            problems.append(f"{name}: definition removed")
            continue
        if "enum" in old_obj or "enum" in new_obj:
            _compare_types(name, old_obj, new_obj, problems)
            continue
        old_props = old_obj.get("properties", {})
        new_props = new_obj.get("properties", {})
        for prop, old_prop in old_props.items():
            if prop not in new_props:
                problems.append(f"{name}.{prop}: field removed")
            else:
                _compare_types(f"{name}.{prop}", old_prop, new_props[prop], problems)
        added_required = set(new_obj.get("required", [])) - set(old_obj.get("required", []))
        for prop in sorted(added_required):
            problems.append(f"{name}.{prop}: new required field (old events do not carry it)")
    return problems
