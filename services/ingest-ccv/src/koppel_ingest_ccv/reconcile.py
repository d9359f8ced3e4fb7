"""The reconciliation poll: what webhooks missed, the poll finds.

CCV has no "updated since" filter (ccvshop.md §7), so the poll re-reads the
order list of a window and decides per order, from the list item alone,
whether it needs a closer look (which costs a GET of the order and one per
page of its rows):
- window: orders created since max(now - reconcile_window_days, the moment
  the connection was made) — listed by `min_create_date` (a date, the only
  format we can be sure of) and cut to the second here;
- an unknown order whose trigger holds (paid, or a trigger status) -> publish;
- an unknown order with the number of a known one -> CCV's re-issue -> amend;
- an unpublished known order whose trigger now holds -> publish;
- a published order that is now cancelled, or whose amounts / customer
  changed (fingerprint of the list item) -> amend or cancel;
- a published order of the window that is no longer listed -> re-read
  (gone: re-issued elsewhere, or removed -> cancel);
- an event a crash left in an outbox -> publish it.
Each connection is polled by one replica at a time (a lease in MongoDB), at
most every `reconcile_interval_seconds`; webhook registration that failed
is retried here too.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from koppel_chassis import ConnectionStore, CredentialsError, ExternalError, LeaseStore
from koppel_contracts import utcnow

from .client import CcvJson
from .connections import Connection, Connections
from .handlers import ConcurrentChange, ConnectionGuard, OrderSync
from .mapping import Trigger, is_cancelled, order_number, resource_fingerprint
from .settings import IngestCcvSettings
from .state import ConnectionState, ConnectionStates, OrderStore
from .webhooks import WebhookRegistrar

log = logging.getLogger(__name__)


def window_start(now: datetime, connected_at: datetime, window_days: int) -> datetime:
    """The oldest creation time the poll looks at, to the second."""
    return max(now - timedelta(days=window_days), connected_at).replace(microsecond=0)


def needs_registration(state: ConnectionState, address: str) -> bool:
    return state.webhooks_address != address


class Reconciler:
    def __init__(
        self,
        settings: IngestCcvSettings,
        store: ConnectionStore,
        connections: Connections,
        states: ConnectionStates,
        orders: OrderStore,
        sync: OrderSync,
        registrar: WebhookRegistrar,
        guard: ConnectionGuard,
        leases: LeaseStore,
    ) -> None:
        self.settings = settings
        self.store = store
        self.connections = connections
        self.states = states
        self.orders = orders
        self.sync = sync
        self.registrar = registrar
        self.guard = guard
        self.leases = leases
        self.interval = timedelta(seconds=settings.reconcile_interval_seconds)
        self.lease_ttl = timedelta(seconds=settings.reconcile_lease_seconds)
        # Check often enough that a due poll never waits much beyond its interval.
        self.tick_seconds = min(settings.reconcile_interval_seconds, 5.0)
        self._attending: dict[str, asyncio.Lock] = {}

    async def run_forever(self) -> None:
        while True:
            for connection_id in await self.connections.ids():
                try:
                    await self.attend(connection_id)
                except Exception:
                    # One connection's trouble (its data, a MongoDB hiccup) must not
                    # keep the others from being polled; it is retried next tick.
                    log.exception("reconciliation failed", extra={"connection_id": connection_id})
            await asyncio.sleep(self.tick_seconds)

    async def attend(self, connection_id: str) -> None:
        """Take in new settings; register webhooks and/or poll, when needed, under the
        connection's lease.

        Settings are taken in here, not only when the settings consumer calls:
        a failure between the chassis storing the settings and us acting on
        them would otherwise never be retried.
        """
        # The settings consumer and the loop may both call: one at a time, as
        # the lease does not tell them apart (same holder).
        async with self._attending.setdefault(connection_id, asyncio.Lock()):
            await self._attend(connection_id)

    async def _attend(self, connection_id: str) -> None:
        version = await self.store.version_of(connection_id)
        if version is None:
            return
        state = await self.states.get(connection_id)
        if state is None or state.settings_version != version:
            state = await self.states.settings_arrived(
                connection_id, version, utcnow(), first_poll_after=self.interval
            )
        if state.broken or not self._has_work(state, utcnow()):
            return
        lease = f"reconcile:{connection_id}"
        if not await self.leases.acquire(lease, self.lease_ttl):
            return  # another replica is at it
        try:
            await self.guard.run(connection_id, "reconciliation", self._work)
        finally:
            await self.leases.release(lease)

    def _has_work(self, state: ConnectionState, now: datetime) -> bool:
        address = self.registrar.address(state.connection_id)
        return needs_registration(state, address) or state.next_poll_at <= now

    async def _work(self, connection: Connection) -> None:
        # Re-read under the lease: another replica may just have done it.
        state = await self.states.get(connection.connection_id)
        if state is None:
            return
        if needs_registration(state, self.registrar.address(connection.connection_id)):
            await self.registrar.ensure(connection)
        now = utcnow()
        if state.next_poll_at <= now:
            days = self.settings.reconcile_window_days
            await self.poll(connection, window_start(now, state.connected_at, days))
            await self.states.schedule_poll(connection.connection_id, utcnow() + self.interval)

    async def poll(self, connection: Connection, since: datetime) -> None:
        connection_id = connection.connection_id
        await self.sync.flush_outboxes(connection_id)
        listed: set[str] = set()
        checked = 0
        async for order in connection.client.orders(
            min_create_date=since.date().isoformat(), orderby="create_date"
        ):
            listed.add(str(order["id"]))
            created = _created(order)
            if created is not None and created < since:
                continue
            if not await self._needs_sync(connection, order):
                continue
            await self._sync_one(connection, int(order["id"]))
            checked += 1
            if not await self.leases.renew(f"reconcile:{connection_id}", self.lease_ttl):
                log.warning("lost the poll lease; another replica continues")
                return
        for ref in await self.orders.published_since(connection_id, since):
            if ref.source_order_id not in listed:
                await self._sync_one(connection, int(ref.source_order_id))
                checked += 1
        log.info(
            "reconciliation done",
            extra={"connection_id": connection_id, "listed": len(listed), "synced": checked},
        )

    async def _sync_one(self, connection: Connection, ccv_order_id: int) -> None:
        """One order; its failure must not keep the poll from the orders after it."""
        try:
            await self.sync.sync(connection, ccv_order_id)
        except CredentialsError:
            raise  # the whole connection is refused: the guard marks it broken
        except (ExternalError, ConcurrentChange) as error:
            log.warning(
                "order not reconciled this round",
                extra={"ccv_order_id": ccv_order_id, "error": str(error)},
            )
        except Exception:
            log.exception("order not reconciled this round", extra={"ccv_order_id": ccv_order_id})

    async def _needs_sync(self, connection: Connection, order: CcvJson) -> bool:
        connection_id = connection.connection_id
        seen = await self.orders.seen_order(connection_id, int(order["id"]))
        if seen is None:
            number = order_number(order)
            known = number is not None and await self.orders.ref_with_number(connection_id, number)
            return bool(known) or connection.trigger.holds(order)
        if seen.superseded_by is not None:
            return False
        ref = await self.orders.ref(connection_id, seen.order_ref)
        if ref is None or ref.outbox is not None:
            return True
        return decide_recheck(
            published=ref.published,
            cancelled=ref.cancelled,
            is_current=ref.source_order_id == str(order["id"]),
            changed=seen.resource_fingerprint != resource_fingerprint(order),
            order=order,
            trigger=connection.trigger,
        )


def decide_recheck(
    *,
    published: bool,
    cancelled: bool,
    is_current: bool,
    changed: bool,
    order: CcvJson,
    trigger: Trigger,
) -> bool:
    """Whether a known order needs its full fetch, judged from the list item."""
    if not published:
        return trigger.holds(order)
    if cancelled or not is_current:
        return False
    return is_cancelled(order) or changed


def _created(order: CcvJson) -> datetime | None:
    """None when unreadable: such an order is synced, which records the failure."""
    try:
        return datetime.fromisoformat(str(order.get("create_date")))
    except ValueError:
        return None
