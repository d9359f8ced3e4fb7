"""Deliveries per connection: once a day at the connection's `delivery_time`
(Europe/Amsterdam), and on request (`deliver_now`, the control route).

Only one replica works on a connection's deliveries at a time (a lease,
`koppel_chassis.LeaseStore`); the unique inserts of `deliveries.Collector` keep every
document in exactly one delivery even if two ever overlap. The day's scheduled delivery
is marked done (`asperion_daily`, `_id` = connection | day) only after it was made, so a
crash before that makes it again at the next pass — which finds nothing pending twice.
A day the service was down at the delivery time is caught up at its next pass.

"Next time at HH:MM in Europe/Amsterdam" needs nothing beyond zoneinfo: a pass is due
when the local time has reached today's delivery time and today is not marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, time, timedelta

from koppel_chassis import ConnectionStore, LeaseStore, SecretBox, log_context
from koppel_chassis.mail import SmtpTransport
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import ConnectionSettings, LedgerSystem
from koppel_ledger import LEDGER_ZONE, utcnow

from .archive import Delivery, DeliveryArchive
from .courier import Courier, Followups, Publish
from .deliveries import Collector
from .documents import DocumentStore
from .settings import LedgerAsperionSettings

log = logging.getLogger(__name__)

DAILY = "asperion_daily"
LEASES = "asperion_leases"


def lease_name(connection_id: str) -> str:
    """The lease of a connection's deliveries (also taken by an erasure, `erasure.py`)."""
    return f"delivery:{connection_id}"


Clock = Callable[[], datetime]


class UnknownConnection(LookupError):
    """No Asperion connection with this id (or it is inactive)."""


class Busy(RuntimeError):
    """Another replica is working on this connection's deliveries right now."""


def delivery_moment(settings: ConnectionSettings, now: datetime) -> datetime:
    """Today's delivery time of the connection, as an aware moment."""
    options = settings.ledger.asperion
    hh, mm = (options.delivery_time if options else "06:00").split(":")
    today = now.astimezone(LEDGER_ZONE).date()
    return datetime.combine(today, time(int(hh), int(mm)), tzinfo=LEDGER_ZONE)


def is_asperion(settings: ConnectionSettings | None) -> bool:
    return (
        settings is not None and settings.active and settings.ledger.system == LedgerSystem.ASPERION
    )


class DeliveryService:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        settings: LedgerAsperionSettings,
        *,
        connections: ConnectionStore,
        publish: Publish,
        secrets: SecretBox | None,
        sender: SmtpTransport | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.connections = connections
        self.clock = clock
        self.store = DocumentStore(db, clock)
        self.archive = DeliveryArchive(db)
        self.followups = Followups(db, clock)
        self.collector = Collector(
            self.store,
            self.archive,
            on_sealed=self.followups.ensure,
            hold_timeout=timedelta(seconds=settings.replace_hold_seconds),
            clock=clock,
        )
        self.courier = Courier(
            store=self.store,
            archive=self.archive,
            followups=self.followups,
            connections=connections,
            settings=settings,
            secrets=secrets,
            publish=publish,
            sender=sender,
            clock=clock,
        )
        self.leases = LeaseStore(db[LEASES], clock=clock)
        self.daily = db[DAILY]
        self.wake = asyncio.Event()

    # ---- the lease ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _owning(self, connection_id: str, wait: float) -> AsyncIterator[None]:
        name = lease_name(connection_id)
        ttl = timedelta(seconds=self.settings.delivery_lease_seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not await self.leases.acquire(name, ttl):
            if loop.time() >= deadline:
                raise Busy(connection_id)
            await asyncio.sleep(0.2)
        try:
            yield
        finally:
            await self.leases.release(name)

    # ---- on request -----------------------------------------------------------------------

    async def deliver_now(
        self, connection_id: str, *, trigger: str = "request", wait: float = 30.0
    ) -> list[Delivery]:
        """Seal what is pending now and send it; the deliveries made ([] when nothing was
        pending). Raises UnknownConnection, Busy."""
        settings = await self.connections.get(connection_id)
        if not is_asperion(settings):
            raise UnknownConnection(connection_id)
        assert settings is not None
        with log_context(connection_id=connection_id):
            async with self._owning(connection_id, wait):
                sealed = await self._collect(connection_id, settings, trigger)
                await self._follow_up(connection_id)
        return [await self.archive.get(d.id) or d for d in sealed]

    async def resend(self, delivery_id: str, *, wait: float = 30.0) -> Delivery:
        """Mail (and upload) a sealed delivery again: the same bytes. Raises LookupError."""
        delivery = await self.archive.get(delivery_id)
        if delivery is None:
            raise LookupError(delivery_id)
        with log_context(connection_id=delivery.connection_id, delivery=delivery_id):
            async with self._owning(delivery.connection_id, wait):
                await self.followups.again(delivery, ("mail", "sftp"))
                await self._follow_up(delivery.connection_id)
        return await self.archive.get(delivery_id) or delivery

    # ---- once a day -----------------------------------------------------------------------

    async def run(self) -> None:
        """The delivery loop (a background loop of the service)."""
        last_purge: datetime | None = None
        while True:
            try:
                await self.tick()
                if last_purge is None or self.clock() - last_purge > timedelta(hours=1):
                    last_purge = self.clock()
                    await self.purge()
            except Exception:
                log.exception("delivery pass failed; trying again at the next one")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.settings.delivery_check_seconds)

    async def tick(self) -> None:
        """One pass: every connection whose delivery is due, and follow-ups that are due."""
        now = self.clock()
        due_followups = await self.followups.due(now)
        for connection_id, settings in (await self.connections.all()).items():
            if not is_asperion(settings):
                continue
            daily = now >= delivery_moment(settings, now) and not await self._marked(
                connection_id, now
            )
            if not daily and connection_id not in due_followups:
                continue
            with log_context(connection_id=connection_id):
                try:
                    async with self._owning(connection_id, wait=0):
                        if daily and not await self._marked(connection_id, now):
                            await self._collect(connection_id, settings, "schedule")
                            await self._mark(connection_id, now)
                        await self._follow_up(connection_id)
                except Busy:
                    continue  # another replica has it

    def _day_key(self, connection_id: str, now: datetime) -> str:
        return f"{connection_id}|{now.astimezone(LEDGER_ZONE).date().isoformat()}"

    async def _marked(self, connection_id: str, now: datetime) -> bool:
        key = self._day_key(connection_id, now)
        return await self.daily.find_one({"_id": key}, {"_id": 1}) is not None

    async def _mark(self, connection_id: str, now: datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self.daily.insert_one({"_id": self._day_key(connection_id, now), "at": now})

    # ---- the work -------------------------------------------------------------------------

    async def _collect(
        self, connection_id: str, settings: ConnectionSettings, trigger: str
    ) -> list[Delivery]:
        sealed = await self.collector.collect(
            connection_id,
            shop=settings.merchant.name,
            language=settings.merchant.language.value,
            trigger=trigger,
        )
        if not sealed:
            log.info("nothing to deliver", extra={"trigger": trigger})
        return sealed

    async def _follow_up(self, connection_id: str) -> None:
        due = await self.followups.due(self.clock())
        await self.courier.run(due.get(connection_id, []))

    async def purge(self, older_than: timedelta = timedelta(days=7)) -> None:
        """Old day marks and expired leases (what the daily loop leaves behind)."""
        limit = self.clock() - older_than
        await self.daily.delete_many({"at": {"$lt": limit}})
        await self.leases.purge_expired()
