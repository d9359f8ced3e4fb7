"""Finding a customer's keys on the topic by e-mail, re-wrapping them, the retention rule."""

from __future__ import annotations

from datetime import UTC, datetime

from koppel_chassis import SecretBox, generate_key
from koppel_contracts import CustomerKeyEvent, CustomerKeyState, ErasureReason, SourceSystem
from koppel_privacy import (
    CustomerKey,
    customer_keys,
    erasures,
    latest_keys,
    retention_cutoff,
    rewrapped,
    subject_digest,
)

OLD = generate_key()
BOX = SecretBox(OLD)


def key_record(connection_id: str, email: str | None, order_ref: str = "1") -> CustomerKeyEvent:
    key = CustomerKey.generate()
    digest = subject_digest(connection_id, email=email, order_ref=order_ref)
    return CustomerKeyEvent.active(
        connection_id, key.key_id, key.wrapped(BOX), BOX.encrypt(digest), SourceSystem.CCVSHOP
    )


def raw(event: CustomerKeyEvent | None, key_id: str, connection_id: str = "shop-1"):
    value = event.model_dump_json().encode() if event is not None else None
    return (f"{connection_id}:{key_id}".encode(), value)


def test_the_topic_says_per_key_what_came_last_and_an_erasure_stays() -> None:
    jan = key_record("shop-1", "jan@example.nl")
    piet = key_record("shop-1", "piet@example.nl")
    gone = erasures([jan])[0]
    records = [raw(jan, jan.key_id), raw(piet, piet.key_id), raw(gone, jan.key_id)]
    records += [raw(jan, jan.key_id), raw(None, piet.key_id)]  # replayed key; a tombstone
    latest = latest_keys(records)
    assert set(latest) == {jan.key_id}
    assert latest[jan.key_id].state == CustomerKeyState.ERASED


def test_a_customers_keys_are_found_by_email_in_their_connection_only() -> None:
    jan = key_record("shop-1", "jan@example.nl")
    jan_again = key_record("shop-1", "jan@example.nl")  # two keys: erase both
    piet = key_record("shop-1", "piet@example.nl")
    elsewhere = key_record("shop-2", "jan@example.nl")
    by_order = key_record("shop-1", None, "1009")
    keys = {k.key_id: k for k in (jan, jan_again, piet, elsewhere, by_order)}
    found = customer_keys(keys, BOX, "shop-1", email=" JAN@example.nl")
    assert {k.key_id for k in found.active} == {jan.key_id, jan_again.key_id}
    assert found.erased == 0 and found.unreadable == 0
    assert [k.key_id for k in customer_keys(keys, BOX, "shop-1", order_ref="1009").active] == [
        by_order.key_id
    ]
    markers = erasures(found.active)
    assert {(m.state, m.erased_because, m.key) for m in markers} == {
        (CustomerKeyState.ERASED, ErasureReason.REQUEST, None)
    }


def test_subjects_the_platform_key_does_not_open_are_counted_not_matched() -> None:
    jan = key_record("shop-1", "jan@example.nl")
    found = customer_keys({jan.key_id: jan}, SecretBox(generate_key()), "shop-1", email="x@y.nl")
    assert found.active == [] and found.unreadable == 1


def test_rewrapped_keys_open_with_the_new_platform_key_alone_and_are_the_same_keys() -> None:
    jan = key_record("shop-1", "jan@example.nl")
    new = generate_key()
    fresh = rewrapped({jan.key_id: jan}, SecretBox(f"{new},{OLD}"))
    assert len(fresh) == 1 and fresh[0].key_id == jan.key_id
    only_new = SecretBox(new)
    assert fresh[0].key is not None and jan.key is not None
    assert (
        only_new.decrypt(fresh[0].key).get_secret_value() == BOX.decrypt(jan.key).get_secret_value()
    )
    assert customer_keys(
        {jan.key_id: fresh[0]}, only_new, "shop-1", email="jan@example.nl"
    ).active == [fresh[0]]
    assert rewrapped({jan.key_id: erasures([jan])[0]}, only_new) == []


def test_retention_counts_from_the_end_of_the_year_of_the_last_order() -> None:
    assert retention_cutoff(datetime(2026, 5, 4, tzinfo=UTC), 7) == datetime(2019, 1, 1, tzinfo=UTC)
    assert retention_cutoff(datetime(2026, 1, 1, tzinfo=UTC), 1) == datetime(2025, 1, 1, tzinfo=UTC)
