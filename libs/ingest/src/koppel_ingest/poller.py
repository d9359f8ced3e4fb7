"""The leased poll per connection: what webhooks missed (or what a poll-only shop has),
the poll finds.

Per connection, at most every `interval`, one replica (a lease in MongoDB) asks the
session what changed (`ShopSession.changes`) and decides per listed order, from the
list item alone, whether it needs a fetch (`decide.needs_fetch`); it also
- publishes events a crash left in the outbox,
- re-reads orders seen before they were bookable (shops that ask for it),
- re-reads published orders a full listing no longer shows (re-issued or removed),
- registers the connection's webhooks when they are missing,
- and raises the alarm when webhooks keep failing their signature while their orders
  exist.
The cursor the session returns is stored only when the poll went through every order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from koppel_chassis import CredentialsError, ExternalError

from .adapter import Candidate, PollWindow, ShopAdapter, ShopOrder
from .clock import Clock
from .decide import needs_fetch, poll_due, poll_window, signature_alarm
from .guard import Alerts, ConcurrentChange, Connection, ConnectionGuard, Connections, concerns
from .records import ConnectionState
from .states import StateStore
from .store import OrderStore
from .sync import OrderSync
from .webhooks import WebhookRegistrar

log = logging.getLogger(__name__)


class Leases(Protocol):
    """`koppel_chassis.LeaseStore`, or its twin `memory.MemoryLeases`."""

    async def acquire(self, name: str, ttl: timedelta) -> bool: ...
    async def renew(self, name: str, ttl: timedelta) -> bool: ...
    async def release(self, name: str) -> None: ...
    async def purge_expired(self, grace: timedelta = ...) -> int: ...
    async def count(self) -> int: ...


@dataclass(frozen=True)
class PollPolicy:
    interval: timedelta  # how often each connection is polled
    window: timedelta  # how far back (by placing time) a full listing looks
    lease: timedelta  # per poll, renewed while it runs
    stale: timedelta = timedelta(seconds=10)  # outbox entries this old were left by a crash
    signature_threshold: int = 3  # refused deliveries whose orders exist before the alarm
    refused_kept: timedelta = timedelta(days=7)

    @property
    def tick_seconds(self) -> float:
        # Often enough that a due poll never waits much beyond its interval.
        return min(self.interval.total_seconds(), 5.0)


@dataclass(frozen=True)
class PollReport:
    listed: int
    synced: int
    complete: bool


class Poller:
    def __init__(
        self,
        adapter: ShopAdapter,
        policy: PollPolicy,
        *,
        connections: Connections,
        states: StateStore,
        store: OrderStore,
        sync: OrderSync,
        registrar: WebhookRegistrar | None,
        guard: ConnectionGuard,
        alerts: Alerts,
        leases: Leases,
        clock: Clock,
    ) -> None:
        self.adapter = adapter
        self.policy = policy
        self.connections = connections
        self.states = states
        self.store = store
        self.sync = sync
        self.registrar = registrar
        self.guard = guard
        self.alerts = alerts
        self.leases = leases
        self.clock = clock
        self._attending: dict[str, asyncio.Lock] = {}
        self.last_report: dict[str, PollReport] = {}
        # Connections this process has polled since it started. Each older connection is
        # polled once at start, whatever its schedule: webhooks sent while no process
        # listened (a crash, a deploy) are otherwise found only by the next scheduled poll.
        self._started_at = clock()
        self._caught_up: set[str] = set()
        self._wanted: set[str] = set()  # to poll at the next tick (see `catch_up`)

    async def ids(self) -> list[str]:
        return [
            cid for cid, s in (await self.connections.all()).items() if concerns(self.adapter, s)
        ]

    async def run_once(self) -> None:
        for connection_id in await self.ids():
            try:
                await self.attend(connection_id)
            except Exception:
                # One connection's trouble (its data, a MongoDB hiccup) must not keep the
                # others from being polled; it is retried next tick.
                log.exception("poll failed", extra={"connection_id": connection_id})

    async def attend(self, connection_id: str) -> None:
        """Take in new settings; register webhooks and/or poll, when due, under the
        connection's lease.

        Settings are taken in here, not only when the settings consumer calls: a failure
        between the chassis storing the settings and us acting on them would otherwise
        never be retried."""
        # The settings consumer and the loop may both call: one at a time, as the lease
        # does not tell them apart (same holder).
        async with self._attending.setdefault(connection_id, asyncio.Lock()):
            await self._attend(connection_id)

    def _lease(self, connection_id: str) -> str:
        return f"poll:{connection_id}"

    async def _attend(self, connection_id: str) -> None:
        current = await self.connections.current(connection_id)
        if current is None:
            return
        state = await self.states.get(connection_id)
        if state is None or state.settings_version != current[1]:
            state = await self.states.settings_arrived(
                connection_id, current[1], self.clock(), first_poll_after=self.policy.interval
            )
        if not (
            self._catching_up(state) or poll_due(state, self.clock(), self._address(connection_id))
        ):
            return
        lease = self._lease(connection_id)
        if not await self.leases.acquire(lease, self.policy.lease):
            return  # another replica is at it
        keeper = asyncio.create_task(self._keep(lease))
        try:
            await self.guard.run(connection_id, "poll", self._work)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self.leases.release(lease)

    async def _keep(self, lease: str) -> None:
        """Renew the lease while the poll runs, also while one slow order is fetched: so the
        lease can be short, and a replica that dies mid-poll holds the connection up for
        one lease at most (the fault run measured 293 s with a 300 s lease renewed only
        per order, after a kill of ingest-prestashop)."""
        while True:
            await asyncio.sleep(self.policy.lease.total_seconds() / 3)
            if not await self.leases.renew(lease, self.policy.lease):
                return

    def _address(self, connection_id: str) -> str | None:
        return self.registrar.address(connection_id) if self.registrar is not None else None

    async def _work(self, connection: Connection) -> None:
        # Re-read under the lease: another replica may just have done it.
        state = await self.states.get(connection.connection_id)
        if state is None:
            return
        address = self._address(connection.connection_id)
        if self.registrar is not None and state.webhooks_address != address:
            await self.registrar.ensure(connection)
        if state.next_poll_at <= self.clock() or self._catching_up(state):
            cursor = await self.poll(connection, state)
            await self.states.polled(
                connection.connection_id, self.clock() + self.policy.interval, cursor
            )
        self._caught_up.add(connection.connection_id)
        self._wanted.discard(connection.connection_id)

    def catch_up(self, connection_id: str) -> None:
        """Poll the connection at the next tick (a webhook this process could not take in)."""
        self._wanted.add(connection_id)

    def _catching_up(self, state: ConnectionState) -> bool:
        """A connection made before this process started and not polled by it yet, or one
        with a webhook this process could not take in."""
        if state.broken:
            return False
        cid = state.connection_id
        return cid in self._wanted or (
            cid not in self._caught_up and state.connected_at < self._started_at
        )

    async def poll(self, connection: Connection, state: ConnectionState) -> str | None:
        """One poll; the cursor to continue from next time."""
        connection_id = connection.connection_id
        await self.sync.flush_outbox(connection_id)
        now = self.clock()
        since = poll_window(now, state.connected_at, self.policy.window)
        changes = await connection.session.changes(PollWindow(now, state.cursor, since))
        listed: set[str] = set()
        synced = 0
        for candidate in changes.candidates:
            listed.add(candidate.source_order_id)
            if not await self._needs_fetch(connection_id, candidate):
                continue
            await self.sync_one(connection, candidate.source_order_id)
            synced += 1
            if not await self.leases.renew(self._lease(connection_id), self.policy.lease):
                log.warning("lost the poll lease; another replica continues")
                self.last_report[connection_id] = PollReport(len(listed), synced, False)
                return state.cursor
        again: list[str] = []
        if self.adapter.revisit_unbookable:
            # Not for ever: an order unpaid for longer than the poll window is left to the
            # shop's own "changed since" listing (a payment changes the order).
            since = self.clock() - self.policy.window
            watched = await self.store.watched(connection_id, since)
            again += [s for s in watched if s not in listed]
        if changes.complete_since is not None:
            published = await self.store.published_since(connection_id, changes.complete_since)
            again += [r.source_order_id for r in published if r.source_order_id not in listed]
        for source_order_id in dict.fromkeys(again):
            await self.sync_one(connection, source_order_id)
            synced += 1
        await self._check_signatures(connection)
        self.last_report[connection_id] = PollReport(len(listed), synced, True)
        log.info(
            "poll done",
            extra={"connection_id": connection_id, "listed": len(listed), "synced": synced},
        )
        return changes.cursor

    async def _needs_fetch(self, connection_id: str, candidate: Candidate) -> bool:
        source = await self.store.source(connection_id, candidate.source_order_id)
        record = None
        number_known = False
        if source is None:
            number = candidate.order_number
            if self.adapter.reissues and number:
                number_known = await self.store.order_with_number(connection_id, number) is not None
        elif source.superseded_by is None:
            record = await self.store.order(connection_id, source.order_ref)
        return needs_fetch(candidate, source, record, number_known=number_known)

    async def sync_one(
        self, connection: Connection, source_order_id: str, fetched: ShopOrder | None = None
    ) -> None:
        """One order; its failure must not keep the poll from the orders after it."""
        try:
            await self.sync.sync(connection, source_order_id, fetched)
        except CredentialsError:
            raise  # the whole connection is refused: the guard marks it broken
        except (ExternalError, ConcurrentChange) as error:
            log.warning(
                "order not synced this round",
                extra={"source_order_id": source_order_id, "error": str(error)},
            )
        except Exception:
            log.exception("order not synced this round", extra={"source_order_id": source_order_id})

    async def _check_signatures(self, connection: Connection) -> None:
        if self.adapter.webhooks is None:
            return
        connection_id = connection.connection_id
        refused = await self.states.refused_orders(connection_id)
        if not refused:
            return
        found = {s for s in refused if await self.store.source(connection_id, s) is not None}
        verdict = signature_alarm(refused, found, self.policy.signature_threshold)
        if verdict.alarm:
            minutes = max(1, round(self.policy.interval.total_seconds() / 60))
            await self.alerts.signature_unverified(connection, verdict.confirmed, minutes)

    async def maintain(self) -> None:
        """Clean-up of what dead replicas and refused deliveries leave behind."""
        await self.leases.purge_expired(self.policy.lease * 2)
        await self.states.purge_refused(self.clock() - self.policy.refused_kept)
        await self.store.forget_watched(self.clock() - self.policy.window)
