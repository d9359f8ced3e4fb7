"""The ingest's key per customer, revealing at the point of use, erasure and retention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from koppel_chassis import SecretBox, generate_key
from koppel_contracts import (
    PRIVACY_KEYS,
    SHOP_ORDERS,
    ConnectionSettings,
    CustomerKeyEvent,
    CustomerKeyState,
    Envelope,
    ErasureReason,
    OrderEvent,
    OrderEventKind,
    SourceSystem,
    Topic,
    order_content_hash,
    order_event_id,
)
from koppel_privacy import (
    ERASED_NAME,
    KeyIssuer,
    KeyNotYetKnown,
    MemoryKeyStore,
    MemorySubjectStore,
    PrivacyKeyMismatch,
    Revealer,
    erase,
)
from koppel_testkit import make_order

BOX = SecretBox(generate_key())


class Recorder:
    def __init__(self, keys: MemoryKeyStore | None = None) -> None:
        self.published: list[tuple[str, Envelope]] = []
        self.keys = keys  # a consumer's store, fed like its follower would be

    async def publish(self, topic: Topic, event: Envelope) -> None:
        self.published.append((topic.name, event))
        if self.keys is not None and isinstance(event, CustomerKeyEvent):
            await self.keys.apply(event)

    def keys_published(self) -> list[CustomerKeyEvent]:
        return [e for t, e in self.published if t == PRIVACY_KEYS.name]  # type: ignore[misc]


def event_of(order, order_ref: str = "1001", connection_id: str = "shop-1") -> OrderEvent:
    digest = order_content_hash(order)
    return OrderEvent(
        event_id=order_event_id(connection_id, order_ref, OrderEventKind.CREATED, digest, 1),
        occurred_at=order.placed_at,
        connection_id=connection_id,
        source_system=SourceSystem.CCVSHOP,
        kind=OrderEventKind.CREATED,
        order_ref=order_ref,
        revision=1,
        content_hash=digest,
        order=order,
    )


@pytest.fixture
def consumer_keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def recorder(consumer_keys: MemoryKeyStore) -> Recorder:
    return Recorder(consumer_keys)


@pytest.fixture
def issuer(recorder: Recorder) -> KeyIssuer:
    return KeyIssuer(MemorySubjectStore(), BOX, recorder, SourceSystem.CCVSHOP)


async def test_a_new_customers_key_is_published_before_their_order_is_sealed(
    issuer: KeyIssuer, recorder: Recorder, consumer_keys: MemoryKeyStore
) -> None:
    sealed = await issuer.seal(event_of(make_order()))
    keys = recorder.keys_published()
    assert len(keys) == 1 and keys[0].state == CustomerKeyState.ACTIVE
    assert sealed.order.personal_data is not None
    assert sealed.order.personal_data.key_id == keys[0].key_id
    assert "jan@example.nl" not in keys[0].model_dump_json(), "the subject is encrypted"
    revealed = await Revealer(consumer_keys, BOX).reveal_event(sealed)
    assert revealed.order == make_order()


async def test_a_customers_orders_share_one_key_and_another_customer_gets_their_own(
    issuer: KeyIssuer, recorder: Recorder
) -> None:
    first = await issuer.seal(event_of(make_order(order_id="1"), "1"))
    second = await issuer.seal(event_of(make_order(order_id="2", email="JAN@example.nl"), "2"))
    other = await issuer.seal(event_of(make_order(order_id="3", email="piet@example.nl"), "3"))
    ids = [e.order.personal_data.key_id for e in (first, second, other)]  # type: ignore[union-attr]
    assert ids[0] == ids[1] != ids[2]
    assert len(recorder.keys_published()) == 2


async def test_customers_without_email_get_a_key_per_order(issuer: KeyIssuer) -> None:
    order = make_order()
    anonymous_buyer = order.model_copy(
        update={"customer": order.customer.model_copy(update={"email": None})}
    )
    one = await issuer.seal(event_of(anonymous_buyer, "1"))
    two = await issuer.seal(event_of(anonymous_buyer, "2"))
    assert one.order.personal_data != two.order.personal_data
    assert one.order.personal_data.key_id != two.order.personal_data.key_id  # type: ignore[union-attr]


async def test_an_order_that_arrives_before_its_key_waits_for_it(issuer: KeyIssuer) -> None:
    sealed = await issuer.seal(event_of(make_order()))
    with pytest.raises(KeyNotYetKnown):
        await Revealer(MemoryKeyStore(), BOX).reveal_event(sealed)


async def test_after_erasure_orders_reveal_anonymous_and_the_customer_starts_afresh(
    issuer: KeyIssuer, recorder: Recorder, consumer_keys: MemoryKeyStore
) -> None:
    sealed = await issuer.seal(event_of(make_order()))
    key_id = sealed.order.personal_data.key_id  # type: ignore[union-attr]
    seen: list[tuple[str, str, bool]] = []

    async def hook(connection_id: str, erased_id: str, previous) -> None:
        # a consumer's hook still gets the key, to find what it holds sealed
        assert previous is not None
        data = await Revealer(consumer_keys, BOX).reveal_order(sealed.order)
        seen.append((connection_id, erased_id, data.customer.email == "jan@example.nl"))

    await erase(consumer_keys, BOX, "shop-1", key_id, [hook, issuer.forget])
    assert seen == [("shop-1", key_id, True)]
    revealed = await Revealer(consumer_keys, BOX).reveal_event(sealed)
    assert revealed.order.customer.last_name == ERASED_NAME
    assert revealed.order.totals == make_order().totals

    later = await issuer.seal(event_of(make_order(order_id="2"), "2"))
    assert later.order.personal_data.key_id != key_id  # type: ignore[union-attr]


async def test_a_cancellation_of_a_sealed_order_stays_sealed_as_it_was(issuer: KeyIssuer) -> None:
    sealed = await issuer.seal(event_of(make_order()))
    again = await issuer.seal(sealed)
    assert again.order == sealed.order and again.schema_version == 2


def connection(retention_years: int) -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "merchant": {"name": "De Boon", "contact_email": "boekhouding@deboon.nl"},
            "shop": {"system": "ccvshop", "base_url": "https://deboon.ccvshop.nl"},
            "ledger": {"system": "octopus", "base_url": "https://octopus.example"},
            "privacy": {"retention_years": retention_years},
        }
    )


async def test_retention_erases_customers_whose_last_order_is_past_the_period(
    issuer: KeyIssuer, recorder: Recorder
) -> None:
    def placed(year: int, month: int = 6):
        return datetime(year, month, 1, tzinfo=UTC)

    await issuer.seal(event_of(make_order(order_id="1", placed_at=placed(2018)), "1"))
    kept = make_order(order_id="2", email="piet@example.nl", placed_at=placed(2018))
    await issuer.seal(event_of(kept, "2"))
    # Piet ordered again in 2019: his data stays a year longer than Jan's.
    again = make_order(order_id="3", email="piet@example.nl", placed_at=placed(2019, 2))
    await issuer.seal(event_of(again, "3"))
    await issuer.seal(event_of(make_order(order_id="4", placed_at=placed(2018)), "4", "shop-2"))

    connections = {"shop-1": connection(7), "shop-2": connection(10)}
    assert await issuer.expire(connections, datetime(2025, 12, 31, tzinfo=UTC)) == 0
    assert await issuer.expire(connections, datetime(2026, 1, 1, tzinfo=UTC)) == 1
    erased = [k for k in recorder.keys_published() if k.state == CustomerKeyState.ERASED]
    assert [(k.connection_id, k.erased_because) for k in erased] == [
        ("shop-1", ErasureReason.RETENTION)
    ]
    assert await issuer.expire(connections, datetime(2026, 6, 1, tzinfo=UTC)) == 0
    assert await issuer.expire(connections, datetime(2027, 1, 1, tzinfo=UTC)) == 1
    assert SHOP_ORDERS.name not in {t for t, _ in recorder.published}


async def test_a_key_wrapped_with_another_privacy_key_is_a_configuration_error(
    issuer: KeyIssuer, consumer_keys: MemoryKeyStore
) -> None:
    sealed = await issuer.seal(event_of(make_order()))
    with pytest.raises(PrivacyKeyMismatch):
        await Revealer(consumer_keys, SecretBox(generate_key())).reveal_event(sealed)
