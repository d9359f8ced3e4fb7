"""The ingest publishes customers' personal data sealed, without disturbing what it knows
about an order: amendments, cancellations and re-polls behave as with orders in clear."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from koppel_chassis import SecretBox, generate_key
from koppel_contracts import (
    PRIVACY_KEYS,
    CanonicalOrder,
    ConnectionSettings,
    CustomerKeyEvent,
    CustomerKeyState,
    ErasureReason,
    Language,
    OrderEventKind,
    ShopSystem,
    SourceSystem,
    order_content_hash,
)
from koppel_ingest import (
    Candidate,
    Changes,
    ConnectionCheck,
    OrderRecord,
    PollWindow,
    SetClock,
    ShopOrder,
)
from koppel_ingest.testing import CONNECTION, Driver
from koppel_privacy import KeyIssuer, MemoryKeyStore, MemorySubjectStore, Revealer
from koppel_testkit import line, make_order

BOX = SecretBox(generate_key())
PERSONAL = ("jan@example.nl", "Jansen", "Dorpsstraat", "1234 AB", "Utrecht")


@dataclass
class Order:
    id: str
    placed_at: datetime
    state: str = "paid"
    quantity: int = 1


@dataclass
class Shop:
    orders: dict[str, Order] = field(default_factory=dict)


class Session:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def fetch(self, source_order_id: str) -> ShopOrder | None:
        order = self.shop.orders.get(source_order_id)
        if order is None:
            return None
        return ShopOrder(
            source_order_id=order.id,
            placed_at=order.placed_at,
            bookable=order.state == "paid",
            cancelled=order.state == "cancelled",
            order_number=f"WEB-{order.id}",
            source_status=order.state,
            payload=order,
        )

    async def canonical(self, order: ShopOrder) -> CanonicalOrder:
        placed: Order = order.payload
        lines = [line("Koffiebonen", str(placed.quantity), "24.95", "9")]
        return make_order(order_id=placed.id, lines=lines, placed_at=placed.placed_at)

    async def changes(self, window: PollWindow) -> Changes:
        return Changes([Candidate(o) for o in self.shop.orders], cursor=window.now.isoformat())

    async def successor(self, record: OrderRecord) -> str | None:
        return None


class Adapter:
    system = ShopSystem.PRESTASHOP
    source_system = SourceSystem.PRESTASHOP
    component = "ingest-test"
    display_name = "Testwinkel"
    texts: Mapping[str, Mapping[str, tuple[str, str]]] = {}
    order_unreadable_code = "test_order_unreadable"
    cancelled_status = "cancelled"
    reissues = False
    revisit_unbookable = False
    webhooks = None

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def session(self, connection_id: str, settings: ConnectionSettings) -> Session:
        return Session(self.shop)

    async def drop(self, connection_id: str) -> None: ...

    async def check_connection(
        self, settings: ConnectionSettings, language: Language
    ) -> ConnectionCheck:
        return ConnectionCheck(None, "ok")

    async def aclose(self) -> None: ...


def settings() -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "merchant": {"name": "Testwinkel", "contact_email": "a@b.nl"},
            "shop": {"system": "prestashop", "base_url": "https://shop.example"},
            "ledger": {"system": "octopus", "base_url": "https://ledger.example"},
            "privacy": {"retention_years": 2},
        }
    )


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
async def driver(shop: Shop) -> AsyncIterator[Driver]:
    issuer = KeyIssuer(MemorySubjectStore(), BOX, None, SourceSystem.PRESTASHOP)  # type: ignore[arg-type]
    # A fixed start, so the years the test moves on never straddle a new year by chance.
    clock = SetClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    driver = Driver(Adapter(shop), box=BOX, privacy=issuer, clock=clock)  # type: ignore[arg-type]
    issuer.publisher = driver.published
    await driver.connect(settings())
    yield driver


def keys(driver: Driver) -> list[CustomerKeyEvent]:
    return driver.published.of(PRIVACY_KEYS)


async def test_orders_go_out_sealed_and_are_amended_and_cancelled_as_in_clear(
    shop: Shop, driver: Driver
) -> None:
    order = shop.orders["1"] = Order("1", driver.clock())
    await driver.poll()
    await driver.poll()  # nothing changed: the sealed order is not "amended" by itself
    order.quantity = 2
    await driver.poll()
    order.state = "cancelled"
    await driver.poll()

    events = driver.orders()
    assert [(e.revision, e.kind) for e in events] == [
        (1, OrderEventKind.CREATED),
        (2, OrderEventKind.AMENDED),
        (3, OrderEventKind.CANCELLED),
    ]
    [key] = keys(driver)
    assert key.state == CustomerKeyState.ACTIVE
    for event in events:
        assert event.schema_version == 2 and event.order.personal_data is not None
        assert event.order.personal_data.key_id == key.key_id
        for value in PERSONAL:
            assert value not in event.model_dump_json()
    assert events[0].content_hash == order_content_hash(events[0].order), "as published"

    consumer = MemoryKeyStore()
    await consumer.apply(key)
    revealed = await Revealer(consumer, BOX).reveal_event(events[2])
    assert revealed.order.customer.email == "jan@example.nl"

    record = await driver.store.order(CONNECTION, "1")
    assert record is not None and record.last_order is not None
    assert "jan@example.nl" not in str(record.last_order), "stored sealed too"


async def test_customers_past_the_retention_are_erased_by_the_daily_pass(
    shop: Shop, driver: Driver
) -> None:
    shop.orders["1"] = Order("1", driver.clock())
    await driver.poll()
    [key] = keys(driver)
    driver.clock.tick(timedelta(days=366 * 2).total_seconds())
    await driver.poll()
    assert [k.state for k in keys(driver)] == [CustomerKeyState.ACTIVE], "not yet"
    driver.clock.tick(timedelta(days=366).total_seconds())
    await driver.poll()
    erased = keys(driver)[1:]
    assert [(k.key_id, k.state, k.erased_because) for k in erased] == [
        (key.key_id, CustomerKeyState.ERASED, ErasureReason.RETENTION)
    ]
