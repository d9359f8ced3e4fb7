"""Sealing and revealing an order's personal data (pure)."""

from __future__ import annotations

import pytest
from koppel_contracts import (
    Address,
    OrderEvent,
    OrderEventKind,
    SourceSystem,
    order_content_hash,
    order_event_id,
)
from koppel_privacy import (
    ERASED_NAME,
    CustomerKey,
    SealBroken,
    reveal_order,
    seal_event,
    seal_order,
    subject_digest,
)
from koppel_testkit import make_order

PERSONAL = ("jan@example.nl", "Jan", "Jansen", "Dorpsstraat", "1234 AB", "Utrecht", "0612345678")


def shipped_order():
    order = make_order(company_name="Jansen Koffie", vat_number="NL123456789B01")
    return order.model_copy(
        update={
            "shipping_address": Address(
                full_name="Piet Jansen",
                street="Kerkweg",
                house_number="7",
                postal_code="9999 ZZ",
                city="Groningen",
                country_code="NL",
            )
        }
    )


def test_a_sealed_order_carries_no_personal_data_in_clear() -> None:
    order = shipped_order()
    sealed = seal_order(order, CustomerKey.generate())
    text = sealed.model_dump_json()
    for value in (*PERSONAL, "Jansen Koffie", "Piet", "Kerkweg", "Groningen", "9999 ZZ"):
        assert value not in text, value
    assert sealed.sealed and sealed.personal_data is not None


def test_a_sealed_order_keeps_what_vat_treatment_and_totals_need() -> None:
    order = shipped_order()
    sealed = seal_order(order, CustomerKey.generate())
    assert sealed.customer.vat_number == "NL123456789B01"
    assert sealed.billing_address.country_code == order.billing_address.country_code
    assert sealed.shipping_address is not None
    assert sealed.shipping_address.country_code == "NL"
    assert sealed.lines == order.lines and sealed.totals == order.totals


def test_revealed_with_its_key_the_order_is_the_shops_again() -> None:
    order = shipped_order()
    key = CustomerKey.generate()
    assert reveal_order(seal_order(order, key), key) == order


def test_revealed_after_erasure_the_customer_is_anonymous_with_the_same_amounts() -> None:
    order = shipped_order()
    erased = reveal_order(seal_order(order, CustomerKey.generate()), None)
    assert erased.sealed, "still sealed: consumers see the customer was erased"
    assert erased.customer.last_name == ERASED_NAME and erased.customer.email is None
    assert erased.billing_address.full_name == ERASED_NAME
    assert erased.billing_address.street is None and erased.billing_address.city is None
    assert erased.customer.vat_number == order.customer.vat_number
    assert (erased.lines, erased.totals, erased.shipping) == (
        order.lines,
        order.totals,
        order.shipping,
    )
    for value in PERSONAL:
        assert value not in erased.model_dump_json()


def test_another_customers_key_or_an_altered_token_does_not_open_it() -> None:
    key = CustomerKey.generate()
    sealed = seal_order(make_order(), key)
    other = CustomerKey(key.key_id, CustomerKey.generate().secret)
    with pytest.raises(SealBroken):
        reveal_order(sealed, other)
    with pytest.raises(SealBroken):
        reveal_order(sealed, CustomerKey.generate())
    assert sealed.personal_data is not None
    token = sealed.personal_data.ciphertext
    altered = sealed.personal_data.model_copy(update={"ciphertext": token[:-8] + "AAAAAAA="})
    with pytest.raises(SealBroken):
        reveal_order(sealed.model_copy(update={"personal_data": altered}), key)


def test_sealing_twice_changes_nothing() -> None:
    key = CustomerKey.generate()
    sealed = seal_order(make_order(), key)
    assert seal_order(sealed, CustomerKey.generate()) is sealed


def order_event(order) -> OrderEvent:
    digest = order_content_hash(order)
    return OrderEvent(
        event_id=order_event_id("shop-1", "1001", OrderEventKind.CREATED, digest, 1),
        occurred_at=order.placed_at,
        connection_id="shop-1",
        source_system=SourceSystem.CCVSHOP,
        kind=OrderEventKind.CREATED,
        order_ref="1001",
        revision=1,
        content_hash=digest,
        order=order,
    )


def test_a_sealed_event_hashes_the_order_as_published_so_no_hash_of_the_person_stays() -> None:
    event = order_event(make_order())
    sealed = seal_event(event, CustomerKey.generate())
    assert sealed.schema_version == 2
    assert sealed.content_hash == order_content_hash(sealed.order) != event.content_hash
    assert sealed.event_id == order_event_id(
        "shop-1", "1001", OrderEventKind.CREATED, sealed.content_hash, 1
    )
    again = OrderEvent.model_validate_json(sealed.model_dump_json())
    assert again == sealed, "a sealed event survives the topic's JSON"


def test_a_customer_is_their_email_within_the_connection_or_else_the_order() -> None:
    one = subject_digest("shop-1", email="Jan@Example.nl ", order_ref="1")
    assert one == subject_digest("shop-1", email="jan@example.nl", order_ref="2")
    assert one != subject_digest("shop-2", email="jan@example.nl", order_ref="1")
    assert subject_digest("shop-1", email=None, order_ref="1") != subject_digest(
        "shop-1", email=None, order_ref="2"
    )
    assert "jan" not in one
