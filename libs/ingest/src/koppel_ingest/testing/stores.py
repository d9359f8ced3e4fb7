"""The store contract: one suite, run against the in-memory twins and the real
MongoDB-compatible server. Subclass `StoreContract` and provide the fixtures
`order_store`, `state_store`, and `leases` + `other_leases` (two replicas' views of one
lease collection); each may use the `clock` fixture."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from koppel_contracts import OrderEventKind, SourceSystem
from koppel_testkit import make_order

from ..clock import SetClock
from ..decide import order_event, publication, published_record
from ..poller import Leases
from ..records import IngestFailure, OrderRecord, Publication, WebhookKey
from ..states import StateStore
from ..store import OrderStore

CONNECTION = "store-contract"
PLACED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def first(source_id: str, number: str | None = None, connection: str = CONNECTION) -> OrderRecord:
    return OrderRecord(
        connection_id=connection,
        order_ref=source_id,
        source_order_id=source_id,
        placed_at=PLACED,
        order_number=number,
        lookup_key=number,
    )


def claim_of(record: OrderRecord, now: datetime, **order: Any) -> Publication:
    kind = OrderEventKind.AMENDED if record.published else OrderEventKind.CREATED
    canonical = make_order(order_id=record.source_order_id, **order)
    return publication(order_event(record, kind, canonical, SourceSystem.CCVSHOP, now), now)


class StoreContract:
    """Behaviour every order store, state store and lease store must show."""

    @pytest.fixture
    def clock(self) -> SetClock:
        return SetClock()

    # --- which order a shop id belongs to ---------------------------------------------------

    async def test_a_new_id_starts_an_order_and_a_reissue_joins_it_by_number(
        self, order_store: OrderStore
    ) -> None:
        record, seen = await order_store.resolve(first("1001", "WEB-1"), by_number=True)
        assert (record.order_ref, record.revision, seen.order_ref) == ("1001", 0, "1001")
        assert record == await order_store.order(CONNECTION, "1001"), "as stored"
        assert seen == await order_store.source(CONNECTION, "1001"), "as stored"
        again, _ = await order_store.resolve(first("1001", "WEB-1"), by_number=True)
        assert again == record, "the same id is the same order"
        reissued, seen = await order_store.resolve(first("1002", "WEB-1"), by_number=True)
        assert reissued.order_ref == "1001" and seen.order_ref == "1001"
        assert reissued.source_order_id == "1001", "still the id that carries the order"
        found = await order_store.order_with_number(CONNECTION, "WEB-1")
        assert found is not None and found.order_ref == "1001"
        assert await order_store.order_with_number(CONNECTION, "WEB-2") is None
        elsewhere, _ = await order_store.resolve(first("2001", "WEB-1", "other"), by_number=True)
        assert elsewhere.order_ref == "2001", "numbers are per connection"

    async def test_without_reissues_a_shared_number_is_two_orders(
        self, order_store: OrderStore
    ) -> None:
        # PrestaShop: split-cart siblings share a reference but are orders of their own.
        a, _ = await order_store.resolve(first("11", "KBHVCMDMO"), by_number=False)
        b, _ = await order_store.resolve(first("12", "KBHVCMDMO"), by_number=False)
        assert (a.order_ref, b.order_ref) == ("11", "12")

    async def test_one_id_seen_by_many_at_once_is_one_order(self, order_store: OrderStore) -> None:
        results = await asyncio.gather(
            *(order_store.resolve(first("3001", "WEB-3"), by_number=True) for _ in range(6))
        )
        assert {record.order_ref for record, _ in results} == {"3001"}
        assert {seen.order_ref for _, seen in results} == {"3001"}

    async def test_the_list_fingerprint_and_a_replacement_are_remembered(
        self, order_store: OrderStore
    ) -> None:
        await order_store.resolve(first("4001"), by_number=False)
        await order_store.remember_fingerprint(CONNECTION, "4001", "f1")
        await order_store.mark_superseded(CONNECTION, "4001", by="4002")
        seen = await order_store.source(CONNECTION, "4001")
        assert seen is not None and (seen.fingerprint, seen.superseded_by) == ("f1", "4002")
        assert await order_store.source(CONNECTION, "4002") is None

    # --- publishing once --------------------------------------------------------------------

    async def test_of_many_concurrent_claims_of_a_revision_exactly_one_wins(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        record, _ = await order_store.resolve(first("5001"), by_number=False)
        claims = [claim_of(record, clock(), email=f"k{i}@x.nl") for i in range(8)]
        won = await asyncio.gather(*(order_store.claim(record, c) for c in claims))
        assert sum(won) == 1, won
        winner = claims[won.index(True)]
        stored = await order_store.order(CONNECTION, "5001")
        assert stored == published_record(record, winner)
        entry = await order_store.entry(CONNECTION, "5001", 1)
        assert entry is not None and entry.event_json == winner.event_json

    async def test_a_published_revision_leaves_no_entry_and_a_stale_claim_loses(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        stale, _ = await order_store.resolve(first("5101"), by_number=False)
        winner = claim_of(stale, clock())
        assert await order_store.claim(stale, winner)
        await order_store.published(winner)
        assert await order_store.entry(CONNECTION, "5101", 1) is None
        stored = await order_store.order(CONNECTION, "5101")
        assert stored is not None and (stored.revision, stored.pending) == (1, None)
        # A replica that read revision 0 before all that now tries revision 1 itself.
        assert not await order_store.claim(stale, claim_of(stale, clock(), email="x@y.nl"))
        assert await order_store.entry(CONNECTION, "5101", 1) is None, "its entry is taken back"
        assert not await order_store.adopt(winner), "nothing to complete"
        assert await order_store.order(CONNECTION, "5101") == stored

    async def test_no_next_revision_is_claimed_while_one_is_pending(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        record, _ = await order_store.resolve(first("5201"), by_number=False)
        one = claim_of(record, clock())
        assert await order_store.claim(record, one)
        pending = published_record(record, one)
        assert not await order_store.claim(pending, claim_of(pending, clock()))
        await order_store.clear_pending(pending)
        cleared = await order_store.order(CONNECTION, "5201")
        assert cleared is not None and cleared.pending is None

    async def test_the_outbox_lists_entries_older_than_asked(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        record, _ = await order_store.resolve(first("5301"), by_number=False)
        entry = claim_of(record, clock())
        await order_store.claim(record, entry)
        assert await order_store.outbox(CONNECTION, clock()) == []
        clock.tick(30)
        assert [e.id for e in await order_store.outbox(CONNECTION, clock())] == [entry.id]
        assert await order_store.outbox("other", clock()) == []
        await order_store.published(entry)
        assert await order_store.outbox(CONNECTION, clock()) == []

    async def test_published_live_orders_are_listed_by_placing_time(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        for ref in ("5401", "5402", "5403"):
            record, _ = await order_store.resolve(first(ref), by_number=False)
            if ref != "5403":
                await order_store.claim(record, claim_of(record, clock()))
        listed = await order_store.published_since(CONNECTION, PLACED)
        assert sorted(r.order_ref for r in listed) == ["5401", "5402"]
        assert await order_store.published_since(CONNECTION, PLACED + timedelta(seconds=1)) == []

    # --- unbookable orders and failures -------------------------------------------------------

    async def test_unbookable_orders_are_watched_until_unwatched(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        await order_store.watch(CONNECTION, "6002", clock())
        clock.tick(1)
        await order_store.watch(CONNECTION, "6001", clock())
        await order_store.watch(CONNECTION, "6002", clock())
        assert await order_store.watched(CONNECTION) == ["6002", "6001"]
        await order_store.unwatch(CONNECTION, "6002")
        assert await order_store.watched(CONNECTION) == ["6001"]
        assert await order_store.watched("other") == []

    async def test_watching_ends_after_the_window(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        old = clock()
        await order_store.watch(CONNECTION, "6101", old)
        clock.tick(3600)
        await order_store.watch(CONNECTION, "6102", clock())
        assert await order_store.watched(CONNECTION, since=old) == ["6101", "6102"]
        assert await order_store.watched(CONNECTION, since=clock()) == ["6102"]
        assert await order_store.forget_watched(before=clock()) == 1
        assert await order_store.watched(CONNECTION) == ["6102"]

    async def test_a_failure_is_recorded_once_per_cause(
        self, order_store: OrderStore, clock: SetClock
    ) -> None:
        failure = IngestFailure("cause-1", CONNECTION, "7001", "7001", "no rows", clock())
        assert await order_store.record_failure(failure)
        assert not await order_store.record_failure(failure)
        assert [f.reason for f in await order_store.failures(CONNECTION)] == ["no rows"]
        await order_store.forget_failure("cause-1")
        assert await order_store.record_failure(failure), "forgotten: recorded again"

    # --- connection states --------------------------------------------------------------------

    async def test_settings_versions_are_taken_in_once_and_only_forward(
        self, state_store: StateStore, clock: SetClock
    ) -> None:
        interval = timedelta(minutes=5)
        state = await state_store.settings_arrived("c1", 1, clock(), interval)
        assert (state.settings_version, state.next_poll_at) == (1, clock() + interval)
        assert state.connected_at == clock() and not state.broken
        keys = [WebhookKey("h1", "orders.created", "enc:v1:x")]
        await state_store.save_webhooks("c1", "https://k/webhooks/c1", keys)
        await state_store.mark_broken("c1", "cause-a", "shop_credentials_refused")
        await state_store.polled("c1", clock() + interval, "cursor-1")
        known = await state_store.get("c1")
        assert known is not None and known.broken and known.webhooks == tuple(keys)
        assert known.cursor == "cursor-1"
        clock.tick(60)
        assert await state_store.settings_arrived("c1", 1, clock(), interval) == known
        newer = await state_store.settings_arrived("c1", 2, clock(), interval)
        assert not newer.broken and newer.webhooks_address is None
        assert newer.next_poll_at == clock(), "a changed connection is polled at once"
        assert newer.connected_at == known.connected_at and newer.cursor == "cursor-1"
        assert (await state_store.settings_arrived("c1", 1, clock(), interval)) == newer

    async def test_a_broken_mark_is_only_lifted_for_its_own_cause(
        self, state_store: StateStore, clock: SetClock
    ) -> None:
        await state_store.settings_arrived("c2", 1, clock(), timedelta(minutes=5))
        await state_store.mark_broken("c2", "cause-b", "shop_secret_unreadable")
        await state_store.unmark_broken("c2", "another-cause")
        broken = await state_store.get("c2")
        assert broken is not None and broken.broken_reason == "shop_secret_unreadable"
        await state_store.unmark_broken("c2", "cause-b")
        assert not (await state_store.get("c2")).broken  # type: ignore[union-attr]

    async def test_of_many_announcing_one_cause_at_once_exactly_one_does(
        self, state_store: StateStore, clock: SetClock
    ) -> None:
        won = await asyncio.gather(*(state_store.announce("cause-c", clock()) for _ in range(8)))
        assert sum(won) == 1
        await state_store.unannounce("cause-c")
        assert await state_store.announce("cause-c", clock()), "not announced: tried again"

    async def test_refused_deliveries_count_once_per_order_and_are_purged(
        self, state_store: StateStore, clock: SetClock
    ) -> None:
        await state_store.refused("c3", "8001", clock())
        await state_store.refused("c3", "8001", clock())
        clock.tick(3600)
        await state_store.refused("c3", "8002", clock())
        await state_store.refused("c4", "8003", clock())
        assert sorted(await state_store.refused_orders("c3")) == ["8001", "8002"]
        assert await state_store.purge_refused(clock() - timedelta(minutes=30)) == 1
        assert await state_store.refused_orders("c3") == ["8002"]

    # --- leases -------------------------------------------------------------------------------

    async def test_a_lease_has_one_holder_until_released_or_expired(
        self, leases: Leases, other_leases: Leases, clock: SetClock
    ) -> None:
        ttl = timedelta(seconds=30)
        assert await leases.acquire("poll:c1", ttl)
        assert not await other_leases.acquire("poll:c1", ttl)
        await other_leases.release("poll:c1")  # not theirs: nothing happens
        assert not await other_leases.acquire("poll:c1", ttl)
        await leases.release("poll:c1")
        assert await other_leases.acquire("poll:c1", ttl)
        clock.tick(31)  # its holder died
        assert not await other_leases.renew("poll:c1", ttl)
        assert await leases.acquire("poll:c1", ttl)

    async def test_poll_cycles_leave_no_leases_behind(
        self, leases: Leases, other_leases: Leases, clock: SetClock
    ) -> None:
        ttl = timedelta(seconds=30)
        for cycle in range(40):
            holder = (leases, other_leases)[cycle % 2]
            assert await holder.acquire("poll:c2", ttl), cycle
            assert await holder.renew("poll:c2", ttl)
            await holder.release("poll:c2")
            clock.tick(60)
        assert await leases.count() == 0
        await leases.acquire("poll:c2", ttl)
        clock.tick(7200)  # and then its holder died
        assert await other_leases.purge_expired(timedelta(hours=1)) == 1
        assert await leases.count() == 0
