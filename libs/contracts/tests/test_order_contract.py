"""The canonical order refuses what would break bookkeeping, naming the field."""

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from koppel_contracts import (
    CanonicalOrder,
    OrderEvent,
    OrderEventKind,
    content_hash,
    event_key,
    order_event_id,
)
from koppel_testkit import charge, line, make_order, make_order_event
from pydantic import ValidationError


def _order_json(**changes: object) -> dict:
    data = json.loads(make_order_event().model_dump_json())
    data.update(changes)
    return data


def test_event_round_trips_through_json_with_decimal_strings() -> None:
    event = make_order_event(make_order(shipping=charge("Verzending", "4.95")))
    wire = json.loads(event.model_dump_json())
    assert wire["order"]["totals"]["total_incl_vat"] == "66.95"
    assert isinstance(wire["order"]["lines"][0]["unit_price_incl_vat"], str)
    again = OrderEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.order.totals.total_incl_vat == Decimal("66.95")


def test_missing_connection_id_is_refused_naming_the_field() -> None:
    data = _order_json()
    del data["connection_id"]
    with pytest.raises(ValidationError) as error:
        OrderEvent.model_validate(data)
    assert "connection_id" in str(error.value)
    assert "Field required" in str(error.value)


def test_float_amount_is_refused_naming_the_field() -> None:
    data = _order_json()
    data["order"]["lines"][0]["unit_price_incl_vat"] = 24.95
    with pytest.raises(ValidationError) as error:
        OrderEvent.model_validate(data)
    message = str(error.value)
    assert "order.lines.0.unit_price_incl_vat" in message
    assert "not floats" in message


def test_totals_that_do_not_add_up_are_refused_naming_the_total() -> None:
    data = _order_json()
    data["order"]["totals"]["total_incl_vat"] = "70.00"
    data["order"]["totals"]["total_vat"] = str(
        Decimal("70.00") - Decimal(data["order"]["totals"]["total_excl_vat"])
    )
    with pytest.raises(ValidationError) as error:
        OrderEvent.model_validate(data)
    assert "totals.total_incl_vat" in str(error.value)


def test_line_that_does_not_add_up_is_refused() -> None:
    data = _order_json()
    data["order"]["lines"][0]["total_incl_vat"] = "99.99"
    with pytest.raises(ValidationError) as error:
        OrderEvent.model_validate(data)
    assert "order.lines.0" in str(error.value)
    assert "total_incl_vat" in str(error.value)


def test_rounding_within_tolerance_is_accepted() -> None:
    data = _order_json()
    stated = Decimal(data["order"]["totals"]["total_incl_vat"])
    data["order"]["totals"]["total_incl_vat"] = str(stated + Decimal("0.01"))
    data["order"]["totals"]["total_vat"] = str(
        Decimal(data["order"]["totals"]["total_vat"]) + Decimal("0.01")
    )
    OrderEvent.model_validate(data)


def test_not_a_number_and_garbage_amounts_are_refused() -> None:
    for bad in ("NaN", "Infinity", "12,50", "", "abc"):
        data = _order_json()
        data["order"]["lines"][1]["unit_price_incl_vat"] = bad
        with pytest.raises(ValidationError) as error:
            OrderEvent.model_validate(data)
        assert "unit_price_incl_vat" in str(error.value)


def test_country_code_must_be_iso_alpha2() -> None:
    data = _order_json()
    data["order"]["billing_address"]["country_code"] = "Nederland"
    with pytest.raises(ValidationError) as error:
        OrderEvent.model_validate(data)
    assert "billing_address.country_code" in str(error.value)


def test_email_is_normalised_for_debtor_matching() -> None:
    order = make_order(email="Jan.Jansen@Example.NL", vat_number="nl 1234.56.789 b01")
    assert order.customer.email == "jan.jansen@example.nl"
    assert order.customer.vat_number == "NL123456789B01"


def test_event_id_is_deterministic_per_change() -> None:
    first = make_order_event()
    again = make_order_event()
    assert first.event_id == again.event_id
    changed = make_order_event(make_order(lines=[line("Mok", "3", "12.10", "21")]))
    assert changed.event_id != first.event_id
    cancelled = make_order_event(kind=OrderEventKind.CANCELLED)
    assert cancelled.event_id != first.event_id
    same_content_later = make_order_event(revision=3)
    assert same_content_later.event_id != first.event_id, "A -> B -> A is a new change"


def test_key_rule_keeps_an_order_on_one_partition() -> None:
    event = make_order_event(order_ref="555", connection_id="shop-a")
    assert event_key(event) == "shop-a:555"


@given(
    quantities=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=8),
    cents=st.lists(st.integers(min_value=1, max_value=100_000), min_size=8, max_size=8),
    rates=st.lists(st.sampled_from(["0", "9", "21"]), min_size=8, max_size=8),
)
def test_generated_orders_validate_and_hash_stably(
    quantities: list[int], cents: list[int], rates: list[str]
) -> None:
    lines = [
        line(f"Artikel {i}", str(q), str(Decimal(cents[i]) / 100), rates[i])
        for i, q in enumerate(quantities)
    ]
    order = make_order(lines=lines)
    assert order.totals.total_incl_vat == sum(ln.total_incl_vat for ln in lines)
    assert content_hash(order) == content_hash(
        CanonicalOrder.model_validate_json(order.model_dump_json())
    )
    assert order_event_id("c", "1", OrderEventKind.CREATED, content_hash(order), 1)
