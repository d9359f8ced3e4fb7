"""The notifier service: consume -> record -> mail -> mark.

- consume: mismatches from `ledger.checks.v1`, alerts from `ops.alerts.v1`, and
  connection settings (merchant address, name, language) from `config.connections.v1`;
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
    LEDGER_CHECKS,
    OPS_ALERTS,
    AlertEvent,
    CheckEvent,
    ConnectionSettings,
    utcnow,
)

from .handlers import Handlers
from .mailer import Mailer, SmtpTransport
from .render import Renderer
from .settings import NotifierSettings
from .state import INDEXES, Clock, Outbox


def build(settings: NotifierSettings, *, clock: Clock = utcnow) -> Service:
    service = Service(settings, indexes=INDEXES)
    outbox = Outbox(service.db, clock)
    connections = ConnectionStore(service.db[CONNECTIONS_COLLECTION])
    handlers = Handlers(outbox, settings, clock, service.registry)
    mailer = Mailer(
        outbox=outbox,
        connections=connections,
        settings=settings,
        transport=SmtpTransport(settings),
        renderer=Renderer(),
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

    # mail -> mark
    @service.loop("mailer")
    async def mail_loop() -> None:
        await mailer.run()

    service.outbox = outbox  # type: ignore[attr-defined]
    service.mailer = mailer  # type: ignore[attr-defined]
    return service
