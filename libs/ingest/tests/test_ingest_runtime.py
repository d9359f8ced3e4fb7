"""The runtime with a shop that lives in memory: a poll-only shop with a "changed since"
cursor (like PrestaShop), and crashes at the worst moments. What the shop contract cannot
provoke through a sandbox is pinned here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from koppel_chassis import SecretBox, TransientError, generate_key
from koppel_contracts import (
    CanonicalOrder,
    ConnectionSettings,
    Language,
    OrderEventKind,
    ShopSystem,
    SourceSystem,
)
from koppel_ingest import (
    Candidate,
    Changes,
    ConnectionCheck,
    OrderRecord,
    PollWindow,
    RegisteredWebhook,
    ShopOrder,
)
from koppel_ingest.memory import MemoryOrderStore
from koppel_ingest.records import Publication
from koppel_ingest.testing import CONNECTION, Driver
from koppel_ingest.testing.driver import POLICY
from koppel_testkit import line, make_order

OVERLAP = timedelta(seconds=30)


@dataclass
class Order:
    id: str
    placed_at: datetime
    updated_at: datetime
    state: str = "awaiting_payment"
    quantity: int = 1


@dataclass
class Shop:
    """The shop's side: orders, and what its "changed since" filter shows."""

    orders: dict[str, Order] = field(default_factory=dict)
    down: bool = False
    listed_since: list[datetime | None] = field(default_factory=list)
    slow: asyncio.Event | None = None  # set: listing waits until it is set


class Session:
    def __init__(self, shop: Shop, bookable_states: frozenset[str]) -> None:
        self.shop = shop
        self.bookable_states = bookable_states

    async def fetch(self, source_order_id: str) -> ShopOrder | None:
        order = self.shop.orders.get(source_order_id)
        if order is None:
            return None
        return ShopOrder(
            source_order_id=order.id,
            placed_at=order.placed_at,
            bookable=order.state in self.bookable_states,
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
        if self.shop.down:
            raise TransientError("shop unavailable", status=503)
        if self.shop.slow is not None:
            await self.shop.slow.wait()
        since = datetime.fromisoformat(window.cursor) - OVERLAP if window.cursor else None
        self.shop.listed_since.append(since)
        changed = [o for o in self.shop.orders.values() if since is None or o.updated_at >= since]
        return Changes([Candidate(o.id) for o in changed], cursor=window.now.isoformat())

    async def successor(self, record: OrderRecord) -> str | None:
        return None

    async def placed_between(self, start: datetime, end: datetime) -> AsyncIterator[str]:
        for order in self.shop.orders.values():
            if start <= order.placed_at < end:
                yield order.id

    async def register_webhooks(self, address: str) -> list[RegisteredWebhook]:
        raise AssertionError("a poll-only shop registers no webhooks")


class PollOnlyAdapter:
    system = ShopSystem.PRESTASHOP
    source_system = SourceSystem.PRESTASHOP
    component = "ingest-test"
    display_name = "Testwinkel"
    texts: Mapping[str, Mapping[str, tuple[str, str]]] = {}
    order_unreadable_code = "test_order_unreadable"
    cancelled_status = "cancelled"
    reissues = False
    revisit_unbookable = True
    webhooks = None

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def session(self, connection_id: str, settings: ConnectionSettings) -> Session:
        return Session(self.shop, frozenset(settings.shop.options.trigger_statuses))

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
            "shop": {
                "system": "prestashop",
                "base_url": "https://shop.example",
                "options": {"trigger_statuses": ["paid", "shipped"]},
            },
            "ledger": {"system": "octopus", "base_url": "https://ledger.example"},
        }
    )


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
async def driver(shop: Shop) -> AsyncIterator[Driver]:
    driver = Driver(PollOnlyAdapter(shop), box=SecretBox(generate_key()))  # type: ignore[arg-type]
    await driver.connect(settings())
    yield driver


def place(shop: Shop, driver: Driver, ref: str, state: str = "awaiting_payment") -> Order:
    now = driver.clock()
    shop.orders[ref] = Order(ref, now, now, state)
    return shop.orders[ref]


async def test_an_order_seen_unbookable_is_looked_at_again_on_every_poll(
    shop: Shop, driver: Driver
) -> None:
    order = place(shop, driver, "1")
    await driver.poll()
    await driver.poll()
    assert driver.orders() == []
    assert await driver.store.watched(CONNECTION) == ["1"]
    order.state = "paid"  # a state change the "changed since" filter does not show
    await driver.poll()
    assert [(e.order_ref, e.kind) for e in driver.orders()] == [("1", OrderEventKind.CREATED)]
    assert await driver.store.watched(CONNECTION) == [], "published: no longer watched"


async def test_the_cursor_moves_on_only_after_a_complete_poll(shop: Shop, driver: Driver) -> None:
    place(shop, driver, "1", "paid")
    await driver.poll()
    first = (await driver.state()).cursor
    assert first is not None and shop.listed_since == [None]
    shop.down = True
    await driver.poll()
    assert (await driver.state()).cursor == first, "a failed poll keeps the cursor"
    shop.down = False
    await driver.poll()
    assert shop.listed_since[-1] == datetime.fromisoformat(first) - OVERLAP
    assert (await driver.state()).cursor != first


async def test_a_changed_order_in_the_overlap_is_amended_once(shop: Shop, driver: Driver) -> None:
    order = place(shop, driver, "1", "paid")
    await driver.poll()
    order.quantity, order.updated_at = 3, driver.clock()
    await driver.poll()
    await driver.poll()  # the overlap shows it again: nothing new to publish
    kinds = [(e.revision, e.kind) for e in driver.orders()]
    assert kinds == [(1, OrderEventKind.CREATED), (2, OrderEventKind.AMENDED)]
    assert driver.orders()[1].order.lines[0].quantity == Decimal(3)


class CrashAfterClaim(MemoryOrderStore):
    """The process dies after the claim's insert, before the order is updated."""

    crash = True

    async def claim(self, record: OrderRecord, claimed: Publication) -> bool:
        if not self.crash:
            return await super().claim(record, claimed)
        self.entries[claimed.id] = claimed.to_doc()
        raise SystemExit("killed")


async def test_a_claim_a_crash_cut_short_is_completed_and_published_once(shop: Shop) -> None:
    driver = Driver(PollOnlyAdapter(shop), box=SecretBox(generate_key()))  # type: ignore[arg-type]
    store = CrashAfterClaim()
    driver.store = driver.runtime.sync.store = driver.runtime.poller.store = store
    await driver.connect(settings())
    place(shop, driver, "1", "paid")
    with pytest.raises(SystemExit):
        await driver.poll()
    assert driver.orders() == []
    store.crash = False
    await driver.poll()  # the entry is older than `stale` now: adopted, then published
    await driver.poll()
    assert [(e.order_ref, e.revision) for e in driver.orders()] == [("1", 1)]
    record = await store.order(CONNECTION, "1")
    assert record is not None and (record.revision, record.pending) == (1, None)
    assert await store.outbox(CONNECTION, driver.clock()) == []


async def test_an_event_kafka_did_not_take_is_published_by_the_next_poll(
    shop: Shop, driver: Driver
) -> None:
    place(shop, driver, "1", "paid")
    publish = driver.published.publish

    async def kafka_down(topic: object, event: object) -> None:
        raise ConnectionError("kafka down")

    driver.published.publish = kafka_down  # type: ignore[method-assign]
    await driver.poll()
    driver.published.publish = publish  # type: ignore[method-assign]
    assert driver.orders() == []
    await driver.poll()
    await driver.poll()
    [event] = driver.orders()
    assert (event.order_ref, event.revision) == ("1", 1), "the same revision, not a new one"


async def test_a_process_that_starts_polls_each_connection_at_once_and_once(
    shop: Shop, driver: Driver
) -> None:
    # Webhooks sent while no process listened (a crash, a deploy) are found at once, not by
    # the next scheduled poll (found by the fault run, tests/faults).
    await driver.runtime.run_once()
    assert shop.listed_since == [], "a new connection is first polled one interval later"
    await driver.poll()
    polls = len(shop.listed_since)

    driver.clock.tick(1)
    restarted = driver.replica()  # a process started after the connection was made
    await restarted.runtime.run_once()
    assert len(shop.listed_since) == polls + 1, "polled at start, not an interval later"
    await restarted.runtime.run_once()
    assert len(shop.listed_since) == polls + 1, "once"


async def test_a_connection_with_a_missed_webhook_is_polled_at_the_next_tick(
    shop: Shop, driver: Driver
) -> None:
    await driver.poll()
    polls = len(shop.listed_since)
    driver.runtime.poller.catch_up(CONNECTION)  # e.g. MongoDB was down for a delivery
    await driver.runtime.run_once()
    assert len(shop.listed_since) == polls + 1, "not an interval later"
    await driver.runtime.run_once()
    assert len(shop.listed_since) == polls + 1, "once"


async def test_a_long_poll_keeps_its_short_lease(shop: Shop) -> None:
    # The lease is short (a replica that dies mid-poll holds the connection up for one lease),
    # so a poll that outlasts it must renew it while it runs, not only per order.
    lease = timedelta(seconds=0.3)
    driver = Driver(
        PollOnlyAdapter(shop),  # type: ignore[arg-type]
        box=SecretBox(generate_key()),
        policy=replace(POLICY, lease=lease),
    )
    await driver.connect(settings())
    shop.slow = asyncio.Event()
    polling = asyncio.create_task(driver.poll())
    await asyncio.sleep(0.05)
    for _ in range(4):  # the manual clock moves 0.8 s, past the lease, while the poll waits
        driver.clock.tick(0.2)
        await asyncio.sleep(0.12)
    other = driver.leases.replica()
    assert await other.acquire(f"poll:{CONNECTION}", lease) is False, "still held"
    shop.slow.set()
    await polling
    assert await other.acquire(f"poll:{CONNECTION}", lease) is True, "released after the poll"
