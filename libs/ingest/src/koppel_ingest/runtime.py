"""The ingest runtime, wired: one object a service (or a test driver) builds from an
adapter, its stores and a publisher, with the entry points the outside calls.

- `on_settings` — the settings consumer: new settings take effect (webhooks, poll);
- `run_forever` — the polling loop (leased per connection) and periodic clean-up;
- `routes()` — the webhook route, for shops with webhooks;
- `sync_order` — one order now, the way a webhook does it (commands, tests);
- `migrate` — historic orders of a period, through the same fetch + mapping;
- `check_connection` — the adapter's connection test.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from koppel_chassis import SecretBox
from koppel_contracts import ConnectionSettings, Language
from koppel_privacy import KeyIssuer
from starlette.routing import Route

from .adapter import ConnectionCheck, ShopAdapter
from .clock import Clock, utcnow
from .guard import Alerts, Connection, ConnectionGuard, Connections, Publisher, concerns
from .migration import Migration, MigrationReport, MigrationTally, Progress
from .poller import Leases, Poller, PollPolicy
from .states import StateStore
from .store import OrderStore
from .sync import OrderSync
from .webhooks import BackgroundTasks, WebhookReceiver, WebhookRegistrar

log = logging.getLogger(__name__)

MAINTAIN_EVERY = timedelta(minutes=10)
# Retention is counted in years; once a day is soon enough, and spares the scan.
RETENTION_EVERY = timedelta(hours=24)


class IngestRuntime:
    def __init__(
        self,
        adapter: ShopAdapter,
        policy: PollPolicy,
        *,
        store: OrderStore,
        states: StateStore,
        connections: Connections,
        publisher: Publisher,
        leases: Leases,
        box: SecretBox,
        public_base_url: str | None = None,
        webhook_workers: int = 16,
        clock: Clock = utcnow,
        privacy: KeyIssuer | None = None,
    ) -> None:
        self.adapter = adapter
        self.policy = policy
        self.store = store
        self.states = states
        self.clock = clock
        self.connections = connections
        self.privacy = privacy
        self.alerts = Alerts(adapter, publisher, states, store, clock)
        self.guard = ConnectionGuard(adapter, connections, states, self.alerts)
        self.sync = OrderSync(
            adapter, store, publisher, self.alerts, clock, policy.stale, privacy=privacy
        )
        self.tasks = BackgroundTasks(webhook_workers)
        self.registrar: WebhookRegistrar | None = None
        self.receiver: WebhookReceiver | None = None
        if adapter.webhooks is not None:
            if public_base_url is None:
                raise ValueError(
                    f"{adapter.display_name} has webhooks: a public_base_url is needed"
                )
            self.registrar = WebhookRegistrar(adapter.webhooks, states, box, public_base_url)
            self.receiver = WebhookReceiver(
                adapter,
                adapter.webhooks,
                states,
                box,
                self.registrar,
                self.guard,
                self.sync,
                self.tasks,
                clock,
            )
        self.poller = Poller(
            adapter,
            policy,
            connections=connections,
            states=states,
            store=store,
            sync=self.sync,
            registrar=self.registrar,
            guard=self.guard,
            alerts=self.alerts,
            leases=leases,
            clock=clock,
        )
        if self.receiver is not None:
            self.receiver.missed = self.poller.catch_up
        self._last_maintenance: datetime | None = None
        self._last_retention: datetime | None = None

    # ---- entry points -------------------------------------------------------------------

    async def on_settings(self, connection_id: str, settings: ConnectionSettings | None) -> None:
        """New settings take effect at once: credentials, trigger, webhooks, a catch-up poll."""
        if concerns(self.adapter, settings):
            await self.poller.attend(connection_id)
        else:
            await self.adapter.drop(connection_id)

    async def run_forever(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.policy.tick_seconds)

    async def run_once(self) -> None:
        """One tick: every connection whose poll (or webhook registration) is due."""
        await self.poller.run_once()
        now = self.clock()
        if self._last_maintenance is None or now - self._last_maintenance >= MAINTAIN_EVERY:
            self._last_maintenance = now
            await self.poller.maintain()
        if self.privacy is not None and (
            self._last_retention is None or now - self._last_retention >= RETENTION_EVERY
        ):
            self._last_retention = now
            await self.apply_retention()

    async def apply_retention(self) -> int:
        """Erase the customers of this shop's connections whose last order is older than the
        connection's `privacy.retention_years`; how many."""
        if self.privacy is None:
            return 0
        ours = {
            cid: settings
            for cid, settings in (await self.connections.all()).items()
            if settings.shop.system == self.adapter.system
        }
        return await self.privacy.expire(ours, self.clock())

    def routes(self) -> list[Route]:
        if self.receiver is None or self.adapter.webhooks is None:
            return []
        return [Route(self.adapter.webhooks.route, self.receiver.handle, methods=["POST"])]

    async def sync_order(self, connection_id: str, source_order_id: str) -> None:
        async def work(connection: Connection) -> None:
            await self.sync.sync(connection, source_order_id)

        await self.guard.run(connection_id, f"order {source_order_id}", work)

    async def migrate(
        self,
        connection_id: str,
        start: datetime,
        end: datetime,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> MigrationReport:
        """Every order placed in [start, end) through the same fetch + mapping as new ones:
        bookable orders are published once (a second run publishes nothing new), unreadable
        ones become ingest failures. A dry run publishes and records nothing."""
        tally = MigrationTally()
        migration = Migration(self.store, self.poller.sync_one, self.clock)

        async def work(connection: Connection) -> None:
            await migration.run(
                connection, start, end, dry_run=dry_run, tally=tally, progress=progress
            )

        if not dry_run:
            await self.poller.attend(connection_id)  # settings taken in, webhooks registered
        await self.guard.run(connection_id, "migration", work)
        state = await self.states.get(connection_id)
        return MigrationReport(tally, state is None or not state.broken)

    async def check_connection(
        self, settings: ConnectionSettings, language: Language | None = None
    ) -> ConnectionCheck:
        return await self.adapter.check_connection(settings, language or settings.merchant.language)

    async def aclose(self, drain_seconds: float = 5.0) -> None:
        await self.tasks.drain(drain_seconds)
        await self.adapter.aclose()
