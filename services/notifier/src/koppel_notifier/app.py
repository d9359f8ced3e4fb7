"""The notifier service: consume -> record -> mail -> mark.

- consume: mismatches from `ledger.checks.v1`, alerts from `ops.alerts.v1`,
  connection settings (merchant address, name, language) from `config.connections.v1`,
  and bookings from `ledger.bookings.v1` (only to count the held orders a restore
  released);
- record: each event becomes at most one notification per cause in the outbox
  (MongoDB); the handler returns only after that insert, so the offset is
  committed only once the notification is durable;
- mail: the `mailer` loop groups a connection's pending notifications into one
  mail (or one daily digest) and sends it over SMTP;
- mark: the mail is marked sent; a failed send waits and is tried again.
"""

from __future__ import annotations

from koppel_chassis import ConnectionStore, Service, follow_connections
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    AlertEvent,
    BookingEvent,
    CheckEvent,
    ConnectionSettings,
    utcnow,
)

from .handlers import Handlers
from .mailer import Mailer, SmtpTransport
from .releases import INDEXES as RELEASE_INDEXES
from .releases import Releases
from .render import Renderer
from .settings import NotifierSettings
from .state import INDEXES, Clock, Outbox


def build(settings: NotifierSettings, *, clock: Clock = utcnow) -> Service:
    service = Service(settings, indexes=INDEXES + RELEASE_INDEXES)
    outbox = Outbox(service.db, clock)
    releases = Releases(service.db, clock)
    connections = ConnectionStore(service.db[CONNECTIONS_COLLECTION])
    handlers = Handlers(outbox, releases, settings, clock, service.registry)
    mailer = Mailer(
        outbox=outbox,
        releases=releases,
        connections=connections,
        settings=settings,
        transport=SmtpTransport(settings),
        renderer=Renderer(settings.dashboard_url),
        clock=clock,
        registry=service.registry,
    )

    # consume: connection settings -> who to mail, in which language
    async def settings_changed(connection_id: str, connection: ConnectionSettings | None) -> None:
        if connection is not None:
            await outbox.settings_arrived(connection_id)
            mailer.wake()

    follow_connections(service, connections, settings_changed)

    # consume -> record
    @service.subscriber(LEDGER_CHECKS, purpose="checks")
    async def on_check(event: CheckEvent) -> None:
        await handlers.check(event)

    @service.subscriber(OPS_ALERTS, purpose="alerts")
    async def on_alert(event: AlertEvent) -> None:
        await handlers.alert(event)

    @service.subscriber(LEDGER_BOOKINGS, purpose="bookings")
    async def on_booking(event: BookingEvent) -> None:
        await handlers.booking(event)

    # mail -> mark
    @service.loop("mailer")
    async def mail_loop() -> None:
        await mailer.run()

    service.outbox = outbox  # type: ignore[attr-defined]
    service.mailer = mailer  # type: ignore[attr-defined]
    return service
