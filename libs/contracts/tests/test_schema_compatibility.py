"""Committed JSON Schema snapshots pin every event; incompatible edits fail here."""

import copy

import pytest
from koppel_contracts import ALL_TOPICS
from koppel_contracts.compatibility import (
    breaking_changes,
    current_schemas,
    load_snapshot,
    snapshot_path,
)


@pytest.mark.parametrize("topic", [t.name for t in ALL_TOPICS])
def test_every_topic_has_a_committed_snapshot(topic: str) -> None:
    assert snapshot_path(topic).exists(), (
        f"no snapshot for {topic}: run `uv run python -m koppel_contracts write-snapshots`"
    )


@pytest.mark.parametrize("topic", [t.name for t in ALL_TOPICS])
def test_models_stay_backward_compatible_with_their_snapshot(topic: str) -> None:
    problems = breaking_changes(load_snapshot(topic), current_schemas()[topic])
    assert problems == [], "breaking change — publish a .v2 topic instead:\n" + "\n".join(problems)


def _order_schema() -> dict:
    return copy.deepcopy(load_snapshot("shop.orders.v1"))


def test_a_removed_field_is_caught() -> None:
    new = _order_schema()
    del new["$defs"]["Customer"]["properties"]["vat_number"]
    assert breaking_changes(_order_schema(), new) == ["Customer.vat_number: field removed"]


def test_a_removed_root_field_is_caught() -> None:
    new = _order_schema()
    del new["properties"]["connection_id"]
    new["required"].remove("connection_id")
    assert "<root>.connection_id: field removed" in breaking_changes(_order_schema(), new)


def test_a_new_required_field_is_caught_but_an_optional_one_is_fine() -> None:
    new = _order_schema()
    new["$defs"]["OrderLine"]["properties"]["weight"] = {"type": "string"}
    assert breaking_changes(_order_schema(), new) == []
    new["$defs"]["OrderLine"]["required"].append("weight")
    assert breaking_changes(_order_schema(), new) == [
        "OrderLine.weight: new required field (old events do not carry it)"
    ]


def test_a_changed_type_is_caught() -> None:
    new = _order_schema()
    new["$defs"]["OrderLine"]["properties"]["quantity"] = {"type": "number"}
    problems = breaking_changes(_order_schema(), new)
    assert len(problems) == 1 and problems[0].startswith("OrderLine.quantity: type changed")


def test_enum_values_may_be_added_not_removed() -> None:
    old = _order_schema()
    added = copy.deepcopy(old)
    added["$defs"]["OrderStatus"]["enum"].append("returned")
    assert breaking_changes(old, added) == []
    removed = copy.deepcopy(old)
    removed["$defs"]["OrderStatus"]["enum"].remove("cancelled")
    assert breaking_changes(old, removed) == ["OrderStatus: enum values removed: ['cancelled']"]


def test_a_removed_definition_is_caught() -> None:
    new = _order_schema()
    del new["$defs"]["Charge"]
    assert "Charge: definition removed" in breaking_changes(_order_schema(), new)


def test_a_constant_may_become_an_enum_that_keeps_it_but_not_one_that_drops_it() -> None:
    old = {"properties": {"v": {"const": 1, "type": "integer"}}}
    kept = {"properties": {"v": {"enum": [1, 2], "type": "integer"}}}
    dropped = {"properties": {"v": {"enum": [2, 3], "type": "integer"}}}
    assert breaking_changes(old, kept) == []
    assert breaking_changes(old, dropped) != []


def test_a_field_may_become_nullable_but_not_change_its_type() -> None:
    old = {"properties": {"m": {"$ref": "#/$defs/M"}}}
    nullable = {"properties": {"m": {"anyOf": [{"$ref": "#/$defs/M"}, {"type": "null"}]}}}
    other = {"properties": {"m": {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}}}
    assert breaking_changes(old, nullable) == []
    assert breaking_changes(old, other) != []
